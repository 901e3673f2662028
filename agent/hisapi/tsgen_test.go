package hisapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// typescriptFromSchema writes TypeScript declarations for the schema's
// $defs: one type per definition, Methods (params and result per method)
// and Notifications (params per notification). It reads the subset of
// JSON Schema that web/schema.json uses.
func typescriptFromSchema(raw []byte) ([]byte, error) {
	root, err := decodeOrdered(json.NewDecoder(bytes.NewReader(raw)))
	if err != nil {
		return nil, err
	}
	doc := root.(*omap)
	defs := doc.get("$defs").(*omap)
	g := &tsgen{}
	g.p("// tiepdon HIS API, apiLevel %v: TypeScript declarations generated from schema.json", doc.get("x-apiLevel"))
	g.p("// (served at /v1/schema.json). Do not edit: edit schema.json and run")
	g.p("// go test ./agent/hisapi -run TestTypesUpToDate -update")
	g.p("")
	for _, k := range defs.keys {
		if strings.HasPrefix(k, "notification") || k == "response" {
			continue
		}
		d := defs.get(k).(*omap)
		g.doc(d, "")
		if t := g.typ(d, ""); strings.HasPrefix(t, "{") {
			g.p("export interface %s %s", tsName(k), t)
		} else {
			g.p("export type %s = %s;", tsName(k), t)
		}
		g.p("")
	}
	g.p("/** Every method: its params and its result. */")
	g.p("export interface Methods {")
	for _, m := range doc.get("x-methods").([]any) {
		g.p("  %q: { params: %s; result: %s };", m, tsName("params:"+m.(string)), tsName("result:"+m.(string)))
	}
	g.p("}")
	g.p("")
	g.p("/** Every notification: its params. */")
	g.p("export interface Notifications {")
	for _, m := range doc.get("x-notifications").([]any) {
		g.p("  %q: %s;", m, tsName("payload:"+m.(string)))
	}
	g.p("}")
	g.p("")
	g.p("export type MethodName = keyof Methods;")
	g.p("export type NotificationName = keyof Notifications;")
	g.p("")
	g.p("/** A notification as it arrives on the WebSocket. */")
	g.p("export type Notification = { [N in NotificationName]: { jsonrpc: \"2.0\"; method: N; params: Notifications[N] } }[NotificationName];")
	g.p("")
	g.p("/** A response as it arrives on the WebSocket. */")
	g.p("export type Response<M extends MethodName = MethodName> =")
	g.p("  | { jsonrpc: \"2.0\"; id: Id; result: Methods[M][\"result\"] }")
	g.p("  | { jsonrpc: \"2.0\"; id: Id; error: RpcError };")
	g.p("")
	g.client(doc)
	return g.b.Bytes(), nil
}

// clientMethods are the methods TiepdonClient declares (client.js must
// have each; TestClientMatchesTypes checks).
var clientMethods = []string{"on", "connect", "close", "forget", "call", "pair", "info", "status", "check", "currentIdentity", "receipt"}

// client declares what client.js exports: its constants (from the
// schema's x-notifications, x-errorCodes and x-closeCodes), TiepdonError
// and TiepdonClient.
func (g *tsgen) client(doc *omap) {
	g.p("// ---- The client (client.js, npm @tiepdon/his-client) ----")
	g.p("")
	g.p("/** The API level this client was written for. */")
	g.p("export declare const API_LEVEL: %v;", doc.get("x-apiLevel"))
	g.p("")
	g.p("/** Notification names, and the client's own event STATE. */")
	g.p("export declare const Events: {")
	for _, n := range doc.get("x-notifications").([]any) {
		g.p("  readonly %s: %q;", constName(n.(string)), n)
	}
	g.p("  /** The client's own event: the connection's state changed. */")
	g.p("  readonly STATE: \"state\";")
	g.p("};")
	g.p("")
	g.p("/** JSON-RPC error codes (stable across API levels), and the client's own DISCONNECTED and TIMEOUT. */")
	g.p("export declare const ErrorCodes: {")
	codes := doc.get("x-errorCodes").(*omap)
	for _, k := range codes.keys {
		g.p("  readonly %s: %v;", k, codes.get(k))
	}
	g.p("  /** Not connected, or the connection closed before the answer. */")
	g.p("  readonly DISCONNECTED: -1;")
	g.p("  /** No answer within the call's time limit. */")
	g.p("  readonly TIMEOUT: -2;")
	g.p("};")
	g.p("")
	g.p("/** WebSocket close codes the agent uses. */")
	g.p("export declare const CloseCodes: {")
	codes = doc.get("x-closeCodes").(*omap)
	for _, k := range codes.keys {
		g.p("  readonly %s: %v;", k, codes.get(k))
	}
	g.p("};")
	g.p("")
	g.p("%s", tsClient)
}

// constName: "eligibility.result" → ELIGIBILITY_RESULT.
func constName(s string) string {
	return strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(s))
}

const tsClient = `/** Detail of the client's STATE event. */
export interface ConnectionState {
  state: "connecting" | "open" | "closed";
  /** Whether the session holds a valid token. */
  paired: boolean;
  /** Why the connection closed (see CloseCodes). */
  closeCode?: number;
  closeReason?: string;
}

/** What each event the client emits carries: every notification's params, and STATE's ConnectionState. */
export type ClientEvents = Notifications & { state: ConnectionState };

/** An error answer from the agent (code and data.reason as in the API), or a local failure (DISCONNECTED, TIMEOUT). */
export declare class TiepdonError extends Error {
  constructor(code: number, message: string, data?: Record<string, unknown>);
  readonly name: "TiepdonError";
  /** See ErrorCodes. */
  code: number;
  /** The error's data.reason, e.g. "missing-scope"; "" for local failures. */
  reason: string;
  /** The error's data (reason, scope, retryAfterMs, ...; closeCode for DISCONNECTED). */
  data: Partial<NonNullable<RpcError["data"]>> & Record<string, unknown>;
}

export interface TiepdonClientOptions {
  /** Default ws://127.0.0.1:8733/v1/ws. */
  url?: string;
  /** The app's name, shown in the reception window. */
  name?: string;
  version?: string;
  /** Notifications wanted (default: all the token allows). */
  events?: NotificationName[];
  /** Where the token is kept (default localStorage; null: nowhere). */
  storage?: Storage | null;
  /** A token from tiepdon pairing add, or from an earlier pairing. */
  token?: string;
  /** Reconnect after every close, with backoff (default true). */
  reconnect?: boolean;
  /** Time limit of a call (default 30000). */
  callTimeoutMs?: number;
  /** The WebSocket class where there is no global one (Node before 22: the ws package's). */
  WebSocket?: { new (url: string): WebSocket };
}

export interface PairOptions {
  /** The name staff see (default the client's name). */
  name?: string;
  /** Default ["eligibility"]. */
  scopes?: Scope[];
  /** Receives the code to show on the page while staff compare it with the window. */
  onCode?: (code: PairingCodeEvent) => void;
}

export interface CheckOptions {
  /** Wait for the first answer (default true). */
  wait?: boolean;
  /** How long the agent waits, in milliseconds (default 20000). */
  timeoutMs?: number;
  /** false: a background check, never the patient at the counter (default true). */
  announce?: boolean;
}

/** A connection to the tiepdon agent that reconnects by itself and keeps its token in storage. */
export declare class TiepdonClient extends EventTarget {
  constructor(opts?: TiepdonClientOptions);
  readonly url: string;
  name: string;
  version: string;
  events: NotificationName[] | null;
  storage: Storage | null;
  reconnect: boolean;
  callTimeoutMs: number;
  readonly storageKey: string;
  /** The session.hello result (paired, scopes, bootId, ...), or null while not connected. */
  session: SessionHelloResult | null;
  state: ConnectionState["state"];
  /** Whether the session holds a valid token. */
  readonly paired: boolean;
  /** Listen to a notification or to STATE; returns a function that stops listening. */
  on<E extends keyof ClientEvents>(name: E, fn: (detail: ClientEvents[E]) => void): () => void;
  /** Connect and say hello; resolves once the session is open. */
  connect(): Promise<SessionHelloResult>;
  /** Close for good (no reconnect). */
  close(): void;
  /** Forget the stored token. */
  forget(): void;
  /** Call a method; rejects with a TiepdonError. */
  call<M extends MethodName>(method: M, params?: Methods[M]["params"], opts?: { timeoutMs?: number }): Promise<Methods[M]["result"]>;
  /** Ask reception staff to pair this page; resolves once they approve. */
  pair(opts?: PairOptions): Promise<PairingRequestResult>;
  info(): Promise<SystemInfoResult>;
  status(): Promise<StatusResult>;
  check(identity: EligibilityCheckParams["identity"], opts?: CheckOptions): Promise<EligibilityCheckResult>;
  /** The patient at the counter now, or null. */
  currentIdentity(): Promise<IdentityCurrentResult>;
  /** A past check's latest answer by its checkId. */
  receipt(checkId: string): Promise<ReceiptGetResult>;
}`

type tsgen struct{ b bytes.Buffer }

func (g *tsgen) p(format string, args ...any) { fmt.Fprintf(&g.b, format+"\n", args...) }

func (g *tsgen) doc(d *omap, indent string) {
	desc, _ := d.get("description").(string)
	if desc == "" {
		return
	}
	desc = strings.ReplaceAll(desc, "*/", "* /")
	g.p("%s/** %s */", indent, desc)
}

// tsName turns a definition's name into a type name:
// "params:session.hello" → SessionHelloParams, "payload:card.presented" →
// CardPresentedParams... see the cases.
func tsName(def string) string {
	kind, name, ok := strings.Cut(def, ":")
	if !ok {
		name, kind = def, ""
	}
	var b strings.Builder
	up := true
	for _, r := range name {
		if r == '.' || r == '-' {
			up = true
			continue
		}
		if up {
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		} else {
			b.WriteRune(r)
		}
	}
	switch kind {
	case "params":
		b.WriteString("Params")
	case "result":
		b.WriteString("Result")
	case "payload":
		b.WriteString("Event")
	}
	s := b.String()
	switch s {
	case "Result":
		return "CheckResult"
	case "Error":
		return "RpcError"
	case "Date":
		return "CalendarDate"
	}
	return s
}

func (g *tsgen) typ(d *omap, indent string) string {
	if r, ok := d.get("$ref").(string); ok {
		return tsName(strings.TrimPrefix(r, "#/$defs/"))
	}
	if c := d.get("const"); c != nil {
		b, _ := json.Marshal(c)
		return string(b)
	}
	if e, ok := d.get("enum").([]any); ok {
		var parts []string
		for _, v := range e {
			b, _ := json.Marshal(v)
			parts = append(parts, string(b))
		}
		return strings.Join(parts, " | ")
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if alts, ok := d.get(k).([]any); ok {
			var parts []string
			for _, a := range alts {
				parts = append(parts, g.typ(a.(*omap), indent))
			}
			return strings.Join(parts, " | ")
		}
	}
	switch t := d.get("type").(type) {
	case []any:
		var parts []string
		for _, x := range t {
			parts = append(parts, tsScalar(x.(string)))
		}
		return strings.Join(parts, " | ")
	case string:
		switch t {
		case "array":
			it := g.typ(d.get("items").(*omap), indent)
			if strings.Contains(it, " | ") {
				it = "(" + it + ")"
			}
			return it + "[]"
		case "object":
			props, _ := d.get("properties").(*omap)
			if props == nil || len(props.keys) == 0 {
				return "Record<string, never>"
			}
			var req []string
			for _, r := range d.get("required").([]any) {
				req = append(req, r.(string))
			}
			var b strings.Builder
			b.WriteString("{\n")
			for _, k := range props.keys {
				pd := props.get(k).(*omap)
				sub := &tsgen{}
				sub.doc(pd, indent+"  ")
				b.Write(sub.b.Bytes())
				opt := "?"
				if slices.Contains(req, k) {
					opt = ""
				}
				fmt.Fprintf(&b, "%s  %s%s: %s;\n", indent, k, opt, g.typ(pd, indent+"  "))
			}
			b.WriteString(indent + "}")
			return b.String()
		}
		return tsScalar(t)
	}
	return "unknown"
}

func tsScalar(t string) string {
	switch t {
	case "integer", "number":
		return "number"
	case "string", "boolean", "null":
		return t
	}
	return "unknown"
}

// omap is a JSON object that keeps its keys' order.
type omap struct {
	keys []string
	vals map[string]any
}

func (m *omap) get(k string) any { return m.vals[k] }

func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := &omap{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k := kt.(string)
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				m.keys = append(m.keys, k)
				m.vals[k] = v
			}
			_, err := dec.Token()
			return m, err
		case '[':
			var a []any
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if a == nil {
				a = []any{}
			}
			_, err := dec.Token()
			return a, err
		}
	}
	return tok, nil
}
