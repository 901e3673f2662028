// tiepdon HIS client: a small ES module for the tiepdon local API
// (JSON-RPC 2.0 over WebSocket). Served by the agent at /v1/client.js.
//
//   import { TiepdonClient, Events } from "http://127.0.0.1:8733/v1/client.js";
//   const tiepdon = new TiepdonClient({ name: "HIS Khoa Khám bệnh" });
//   tiepdon.on(Events.ELIGIBILITY_RESULT, (r) => fillForm(r));
//   await tiepdon.connect();
//   if (!tiepdon.paired) await tiepdon.pair({ scopes: ["eligibility", "identity"], onCode: showCode });
//
// Protocol reference: docs/his-api.md. API level 1.

/** The API level this client was written for. */
export const API_LEVEL = 1;

/** Notification names. */
export const Events = Object.freeze({
  DEVICE_CHANGED: "device.changed",
  CARD_PRESENTED: "card.presented",
  CARD_PROGRESS: "card.progress",
  READ_FAILED: "read.failed",
  IDENTITY_READ: "identity.read",
  ELIGIBILITY_RESULT: "eligibility.result",
  ELIGIBILITY_UPDATED: "eligibility.updated",
  GATEWAY_STATE: "gateway.state",
  ALERT: "alert",
  EVENTS_DROPPED: "events.dropped",
  PAIRING_CODE: "pairing.code",
  // Client-side events (not from the agent):
  STATE: "state", // detail: { state: "connecting"|"open"|"closed", paired, closeCode, closeReason }
});

/** JSON-RPC error codes (stable across API levels). */
export const ErrorCodes = Object.freeze({
  PARSE_ERROR: -32700, INVALID_REQUEST: -32600, METHOD_NOT_FOUND: -32601, INVALID_PARAMS: -32602,
  INTERNAL: -32603, HELLO_REQUIRED: -32000, UNAUTHORIZED: -32001, FORBIDDEN: -32002,
  API_LEVEL: -32003, NOT_FOUND: -32004, RATE_LIMITED: -32005, BUSY: -32006,
  PAIRING_DENIED: -32010, PAIRING_EXPIRED: -32011, CHECK_FAILED: -32020,
  DISCONNECTED: -1, TIMEOUT: -2,
});

/** WebSocket close codes the agent uses. */
export const CloseCodes = Object.freeze({
  NORMAL: 1000, GOING_AWAY: 1001, UNSUPPORTED_DATA: 1003, INVALID_PAYLOAD: 1007, POLICY_VIOLATION: 1008, TOO_BIG: 1009,
  IDLE: 4000, TOKEN_REVOKED: 4403, HELLO_TIMEOUT: 4408, TOO_MANY_CLIENTS: 4429,
});

/**
 * @typedef {{year:number, month?:number, day?:number} | string} PartialDate  dates travel as "dd/MM/yyyy", "MM/yyyy" or "yyyy"
 * @typedef {{medium:string, citizenId?:string, oldId?:string, name?:string, birthDate?:string, sex?:"M"|"F",
 *   address?:string, issueDate?:string, cardNumber?:string, socialInsuranceNumber?:string, registeredFacility?:string,
 *   chip?:object, authenticity:{level:string, detail?:string, cloneCheck?:string}}} Identity
 * @typedef {{verdict:"eligible"|"check-documents"|"not-eligible"|"input-mismatch"|"staff-problem"|"unavailable",
 *   code:string, reasonVi:string, reasonEn:string, field?:string, cardNumber?:string, holder?:string,
 *   validFrom?:string, validTo?:string, registeredFacility?:string, facilityName?:string, benefitPercent?:number,
 *   newCard?:object, source:"live"|"cache"|"none", checkedAt:string, ageSeconds?:number, latencyMs?:number}} Eligibility
 * @typedef {{seq:number, time:string, checkId:string, identity:Identity, eligibility?:Eligibility,
 *   photo?:string, photoType?:string}} ResultEvent  photo: base64, only with the photo scope
 * @typedef {{seq:number, time:string, kind:"reader"|"scanner", name:string, state:string, detail?:string}} DeviceEvent
 * @typedef {{seq:number, time:string, checkId:string, medium:string, device?:string}} PresentedEvent
 * @typedef {{seq:number, time:string, checkId:string, step:string, percent:number}} ProgressEvent
 * @typedef {{seq:number, time:string, state:"online"|"degraded"|"offline", since:string, reason?:string}} GatewayEvent
 * @typedef {{dropped:number, afterSeq:number, beforeSeq?:number}} DroppedEvent
 * @typedef {{pairingId:string, code:string, origin:string, expiresAt:string}} PairingCodeEvent
 */

/** An error answer from the agent, or a local failure (DISCONNECTED, TIMEOUT). */
export class TiepdonError extends Error {
  constructor(code, message, data) {
    super(message);
    this.name = "TiepdonError";
    /** @type {number} */ this.code = code;
    /** @type {string} */ this.reason = (data && data.reason) || "";
    this.data = data || {};
  }
}

const DEFAULT_URL = "ws://127.0.0.1:8733/v1/ws";

/**
 * A connection to the tiepdon agent that reconnects by itself and keeps its
 * token in localStorage. Listen with on(Events.X, fn) or addEventListener(name, e => e.detail).
 */
export class TiepdonClient extends EventTarget {
  /**
   * @param {{url?:string, name?:string, version?:string, events?:string[], storage?:Storage|null,
   *   token?:string, reconnect?:boolean, callTimeoutMs?:number, WebSocket?:typeof WebSocket}} [opts]
   *   WebSocket: the WebSocket class to use where there is no global one (Node before 22: the ws package's)
   */
  constructor(opts = {}) {
    super();
    this.url = opts.url || DEFAULT_URL;
    this.name = opts.name || "HIS";
    this.version = opts.version || "";
    this.events = opts.events || null;
    this.storage = opts.storage === undefined ? globalThis.localStorage ?? null : opts.storage;
    this.reconnect = opts.reconnect !== false;
    this.callTimeoutMs = opts.callTimeoutMs || 30000;
    this.WebSocket = opts.WebSocket || globalThis.WebSocket;
    this.storageKey = "tiepdon.token:" + this.url;
    this._token = opts.token || (this.storage && this.storage.getItem(this.storageKey)) || "";
    this._ws = null;
    this._next = 1;
    this._backoff = 500;
    this._closedByUser = false;
    this._timer = null;
    /** @type {{sessionId:string, apiLevel:number, version:string, paired:boolean, scopes:string[], events:string[]}|null} */
    this.session = null;
    this.state = "closed";
  }

  /** Whether the session holds a valid token. */
  get paired() { return !!(this.session && this.session.paired); }

  /** Subscribe to a notification; returns a function that unsubscribes. */
  on(name, fn) {
    const h = (e) => fn(e.detail);
    this.addEventListener(name, h);
    return () => this.removeEventListener(name, h);
  }

  _emit(name, detail) {
    // CustomEvent is global in browsers and Node 19+; Node 18 has Event only.
    const e = typeof CustomEvent === "function" ? new CustomEvent(name, { detail }) : Object.assign(new Event(name), { detail });
    this.dispatchEvent(e);
  }

  _setState(state, extra = {}) {
    this.state = state;
    this._emit(Events.STATE, { state, paired: this.paired, ...extra });
  }

  /** Connect and say hello. Resolves with the hello result once the session is open. */
  connect() {
    this._closedByUser = false;
    clearTimeout(this._timer);
    if (this._ws) {
      // Replace the current connection; its close event is ignored below.
      const old = this._ws;
      this._ws = null;
      this._failPending(old);
      old.close(1000);
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      this._setState("connecting");
      let ws;
      try {
        ws = new this.WebSocket(this.url);
      } catch (e) {
        reject(e);
        return;
      }
      ws._pending = new Map();
      this._ws = ws;
      ws.onmessage = (e) => this._onMessage(ws, e.data);
      ws.onopen = async () => {
        try {
          const hello = await this._hello();
          this._backoff = 500;
          this._setState("open");
          settled = true;
          resolve(hello);
        } catch (e) {
          settled = true;
          reject(e);
          ws.close();
        }
      };
      ws.onclose = (e) => {
        this._failPending(ws);
        if (!settled) {
          settled = true;
          reject(new TiepdonError(ErrorCodes.DISCONNECTED, e.reason || "could not connect to tiepdon (is it running, and is this origin allowed?)", { closeCode: e.code }));
        }
        if (this._ws !== ws) return; // a replaced connection
        this._ws = null;
        this.session = null;
        if (e.code === CloseCodes.TOKEN_REVOKED) this._forgetToken();
        this._setState("closed", { closeCode: e.code, closeReason: e.reason });
        this._scheduleReconnect(e.code);
      };
    });
  }

  _failPending(ws) {
    for (const [, p] of ws._pending) p.reject(new TiepdonError(ErrorCodes.DISCONNECTED, "disconnected from tiepdon"));
    ws._pending.clear();
  }

  _scheduleReconnect(code) {
    if (this._closedByUser || !this.reconnect) return;
    let delay = this._backoff * (0.75 + Math.random() / 2);
    if (code === CloseCodes.TOO_MANY_CLIENTS || code === CloseCodes.POLICY_VIOLATION) delay = Math.max(delay, 10000);
    this._backoff = Math.min(this._backoff * 2, 30000);
    this._timer = setTimeout(() => this.connect().catch(() => {}), delay);
  }

  async _hello() {
    const params = { client: { name: this.name, version: this.version }, apiLevel: API_LEVEL };
    if (this.events) params.events = this.events;
    if (this._token) {
      try {
        this.session = await this.call("session.hello", { ...params, token: this._token });
        return this.session;
      } catch (e) {
        if (!(e instanceof TiepdonError) || e.code !== ErrorCodes.UNAUTHORIZED) throw e;
        this._forgetToken(); // unknown, revoked or another origin's: pair again
      }
    }
    this.session = await this.call("session.hello", params);
    return this.session;
  }

  _forgetToken() {
    this._token = "";
    if (this.storage) this.storage.removeItem(this.storageKey);
  }

  /** Forget the stored token (the agent keeps it until revoked in the window or with `tiepdon pairing revoke`). */
  forget() { this._forgetToken(); }

  /** Close for good (no reconnect). */
  close() {
    this._closedByUser = true;
    clearTimeout(this._timer);
    const ws = this._ws;
    if (ws) {
      ws.close(1000);
      // Report the close now; the socket's own close event comes later and is ignored.
      this._ws = null;
      this.session = null;
      this._failPending(ws);
      this._setState("closed", { closeCode: 1000, closeReason: "closed by the page" });
    }
  }

  _onMessage(ws, data) {
    if (this._ws !== ws) return;
    let m;
    try { m = JSON.parse(data); } catch { return; }
    if (m.method) { // notification
      this._emit(m.method, m.params);
      return;
    }
    const p = ws._pending.get(m.id);
    if (!p) return;
    ws._pending.delete(m.id);
    if (m.error) p.reject(new TiepdonError(m.error.code, m.error.message, m.error.data));
    else p.resolve(m.result);
  }

  /** Call a method. Rejects with a TiepdonError. */
  call(method, params, { timeoutMs } = {}) {
    const ws = this._ws;
    if (!ws || ws.readyState !== 1) { // OPEN
      return Promise.reject(new TiepdonError(ErrorCodes.DISCONNECTED, "not connected to tiepdon"));
    }
    const id = this._next++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        ws._pending.delete(id);
        reject(new TiepdonError(ErrorCodes.TIMEOUT, method + ": no answer in time"));
      }, timeoutMs || this.callTimeoutMs);
      ws._pending.set(id, {
        resolve: (v) => { clearTimeout(t); resolve(v); },
        reject: (e) => { clearTimeout(t); reject(e); },
      });
      const req = { jsonrpc: "2.0", id, method };
      if (params !== undefined) req.params = params;
      ws.send(JSON.stringify(req));
    });
  }

  /**
   * Ask reception staff to pair this page. The agent's window shows this page's origin and a
   * 6-digit code; onCode receives the same code to show here. Resolves once staff approve.
   * @param {{name?:string, scopes?:string[], onCode?:(c:PairingCodeEvent)=>void}} [opts]
   */
  async pair({ name, scopes = ["eligibility"], onCode } = {}) {
    const off = onCode ? this.on(Events.PAIRING_CODE, onCode) : () => {};
    try {
      const res = await this.call("pairing.request", { name: name || this.name, scopes }, { timeoutMs: 10 * 60 * 1000 });
      this._token = res.token;
      if (this.storage) this.storage.setItem(this.storageKey, res.token);
      this.session = { ...(this.session || {}), paired: true, tokenId: res.tokenId, scopes: res.scopes, events: res.events };
      this._setState("open");
      return res;
    } finally {
      off();
    }
  }

  /** system.info: version, API levels, methods, events, limits. */
  info() { return this.call("system.info"); }
  /** status: gateway state, devices, cache age, outbox, current check. */
  status() { return this.call("status"); }
  /**
   * eligibility.check: check a patient by citizenId, cardNumber or socialInsuranceNumber.
   * Resolves with {checkId, pending, result?}; the answer also arrives as eligibility.result, unless
   * announce is false (a back-end's background check: never the patient at the counter).
   */
  check(identity, { wait = true, timeoutMs, announce } = {}) {
    const params = { identity, wait };
    if (timeoutMs) params.timeoutMs = timeoutMs;
    if (announce === false) params.announce = false;
    return this.call("eligibility.check", params, { timeoutMs: (timeoutMs || 20000) + 5000 });
  }
  /** identity.current: the patient at the counter now, or null. */
  currentIdentity() { return this.call("identity.current"); }
  /** receipt.get: a past check's result by its checkId. */
  receipt(checkId) { return this.call("receipt.get", { checkId }); }
}
