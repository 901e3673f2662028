// tiepdon HIS API, apiLevel 1: TypeScript declarations generated from schema.json
// (served at /v1/schema.json). Do not edit: edit schema.json and run
// go test ./agent/hisapi -run TestTypesUpToDate -update

/** An instant: UTC, RFC 3339 with exactly three fractional digits (milliseconds), e.g. "2026-03-14T02:05:09.120Z". Every instant on the wire has this form. */
export type Instant = string;

/** A calendar date as printed on cards and given by the BHXH gateway: dd/MM/yyyy, or MM/yyyy or yyyy when only that much is known (dates of birth may be partial). */
export type CalendarDate = string;

/** What a token may see: eligibility (answers, with the identity reduced to medium and authenticity), identity (the full identity), photo (the chip's face image; needs identity), history (the visit history in eligibility.visits: health data; needs eligibility). */
export type Scope = "eligibility" | "identity" | "photo" | "history";

/** Where the identity came from: chip (the CCCD chip, over a card reader), qr-cccd (the QR code on a CCCD), qr-bhyt (the QR code of a BHYT card, VssID or VNeID), typed (typed at the desk or sent by the HIS in eligibility.check), qr (a QR code not yet recognised, in card.presented and read.failed only). */
export type Medium = "chip" | "qr-cccd" | "qr-bhyt" | "typed" | "qr";

/** The answer in one word: eligible (admit under BHYT), check-documents (the gateway has no data: check the physical card), not-eligible, input-mismatch (a field sent does not match the gateway's record: see field), staff-problem (the shift's staff are not registered with the gateway), unavailable (no answer and nothing cached). */
export type Verdict = "eligible" | "check-documents" | "not-eligible" | "input-mismatch" | "staff-problem" | "unavailable";

/** How far the identity can be trusted. */
export interface Authenticity {
  /** unverified (QR or typed: no proof), verified (chip data and signer chain verified against a trusted CSCA), intact-issuer-unknown (chip data matches its signature, signer not trusted here), failed (chip data does not match its signature). */
  level: "unverified" | "verified" | "intact-issuer-unknown" | "failed";
  /** A short explanation for staff and logs; never personal data. */
  detail?: string;
  /** The chip's clone check (chip authentication), when made. */
  cloneCheck?: "passed" | "failed";
  /** The chip's document signer certificate subject; absent for QR and typed data. */
  signer?: string;
}

/** What only the chip holds (DG13 and reading details). Present for medium chip. */
export interface Chip {
  /** MIME type of the face image (sent as photo to tokens with the photo scope). */
  photoType?: string;
  /** Dân tộc (DG13). */
  ethnicity?: string;
  /** Tôn giáo (DG13). */
  religion?: string;
  /** Quê quán (DG13). */
  hometown?: string;
  /** The CCCD's expiry date (DG13). */
  expiryDate?: CalendarDate;
  /** Quốc tịch (DG13). */
  nationality?: string;
  /** When the chip was read. */
  readAt: Instant;
}

/** The full identity (tokens with the identity scope). Personal data. */
export interface Identity {
  medium: Medium;
  /** Số định danh cá nhân: 12 digits. */
  citizenId?: string;
  /** The 9-digit CMND number, if printed on the card. */
  oldId?: string;
  /** Full name, as on the card (Unicode NFC). */
  name?: string;
  /** Date of birth (may be partial). */
  birthDate?: CalendarDate;
  /** M or F. */
  sex?: "M" | "F";
  /** Nơi thường trú. */
  address?: string;
  /** The CCCD's issue date. */
  issueDate?: CalendarDate;
  /** BHYT card number: 15 characters (2 letters, 13 digits) or the 10-digit mã số BHXH form. */
  cardNumber?: string;
  /** Mã số BHXH: 10 digits. */
  socialInsuranceNumber?: string;
  /** Nơi ĐKBĐ code from a BHYT QR code, e.g. "01043". */
  registeredFacility?: string;
  /** BHYT card valid from (BHYT QR codes). */
  cardValidFrom?: CalendarDate;
  /** BHYT card valid to (BHYT QR codes). */
  cardValidTo?: CalendarDate;
  /** Thời điểm đủ 5 năm liên tục (BHYT QR codes). */
  fiveYearDate?: CalendarDate;
  chip?: Chip;
  authenticity: Authenticity;
}

/** The identity as tokens without the identity scope see it. */
export interface MinimalIdentity {
  medium: Medium;
  authenticity: Authenticity;
}

/** The reissued card the gateway names with codes 003 and 004. */
export interface NewCard {
  /** The gateway's code for the card first asked about (003 or 004), kept when the agent re-checked the new card by itself; the answer's code is then the re-check's. */
  firstCode?: string;
  /** The card first asked about, when the agent re-checked the new card by itself. */
  oldCardNumber?: string;
  /** The new card's number. */
  cardNumber: string;
  validFrom?: CalendarDate;
  validTo?: CalendarDate;
  /** The new card's nơi ĐKBĐ code. */
  registeredFacility?: string;
  /** Its name. */
  facilityName?: string;
}

/** One entry of the visit history (lịch sử khám chữa bệnh). Health data: only for tokens with the history scope. */
export interface Visit {
  /** The gateway's record ID (maHoSo). */
  recordId: string;
  /** Facility code (maCSKCB). */
  facility: string;
  /** Admission time. */
  admitted: Instant;
  /** Discharge time, when known. */
  discharged?: Instant;
  /** Diagnosis (tenBenh): health data. */
  diagnosis?: string;
  /** tinhTrang, as the gateway gives it. */
  status?: string;
  /** kqDieuTri, as the gateway gives it. */
  outcome?: string;
  /** lyDoVV, as the gateway gives it. */
  reason?: string;
}

/** The BHYT eligibility answer. */
export interface Eligibility {
  verdict: Verdict;
  /** The gateway's result code (maKetQua), e.g. "000"; after an automatic re-check of a reissued card, the re-check's (newCard.firstCode keeps the first). */
  code: string;
  /** Plain Vietnamese for staff. */
  reasonVi: string;
  /** The same in English. */
  reasonEn: string;
  /** Hospital mode: for a cached answer kept by another desk of the hospital, that desk's name ("Quầy 3"). */
  cachedBy?: string;
  /** What the receptionist does next, in one Vietnamese sentence (docs/eligibility-policy.md gives the line of every code); absent when tiepdon has none. */
  nextStepVi?: string;
  /** The same in English. */
  nextStepEn?: string;
  /** For input-mismatch: the field that does not match. */
  field?: "name" | "birthDate" | "cardNumber" | "sex" | "citizenId";
  /** BHYT card number (mã thẻ). */
  cardNumber?: string;
  /** Which identifier the gateway answered for: the card number, the social insurance number or the citizen ID. */
  answeredBy?: "card" | "social-insurance" | "citizen-id";
  /** The holder's name as the gateway has it. Personal data. */
  holder?: string;
  /** Date of birth as the gateway has it. */
  birthDate?: CalendarDate;
  /** M or F. */
  sex?: "M" | "F";
  /** Address as the gateway has it. */
  address?: string;
  /** Card valid from (gtTheTu). */
  validFrom?: CalendarDate;
  /** Card valid to (gtTheDen). */
  validTo?: CalendarDate;
  /** Nơi ĐKBĐ code (maDKBD). */
  registeredFacility?: string;
  /** Its name. */
  facilityName?: string;
  /** The issuing BHXH office (cqBHXH). */
  issuingOffice?: string;
  /** Living area code (maKV): K1, K2 or K3. */
  areaCode?: string;
  /** Thời điểm đủ 5 năm liên tục. */
  fiveYearDate?: CalendarDate;
  /** Mã số BHXH: 10 digits. */
  socialInsuranceNumber?: string;
  /** Benefit level 1 to 5, from the card number's third character. */
  benefitLevel?: number;
  /** Benefit percentage: 80, 95 or 100. */
  benefitPercent?: 80 | 95 | 100;
  newCard?: NewCard;
  /** The gateway's free-text note (ghiChu), unchanged. */
  note?: string;
  /** SHA-256 (hex) of the gateway's raw answer, as the signed receipt records it. */
  answerSha256?: string;
  /** live (the gateway answered now), cache (the agent's encrypted cache answered: see ageMs), none (no answer). */
  source: "live" | "cache" | "none";
  /** When the gateway gave this answer. */
  checkedAt: Instant;
  /** Cached answers: how old the answer was when shown, in milliseconds. */
  ageMs?: number;
  /** Live answers: the gateway's round trip in milliseconds (0.1 ms steps). */
  latencyMs?: number;
  /** Deprecated (apiLevel 1 only): ageMs in seconds, 0.1 s steps. */
  ageSeconds?: number;
  /** Deprecated (apiLevel 1 only): ageMs in nanoseconds. */
  age?: number;
  /** Deprecated (apiLevel 1 only): latencyMs in nanoseconds. */
  latency?: number;
  /** The visit history, newest first (history scope only: health data). */
  visits?: Visit[];
}

/** The signed proof of an answer (Ed25519; verify with tiepdon receipt verify or the desk's exported public key). */
export interface Receipt {
  /** Signature algorithm. */
  alg: "Ed25519";
  /** The first 8 bytes of the SHA-256 of the public key, hex. */
  keyId: string;
  /** Base64 (standard, padded) of the signed JSON. */
  payload: string;
  /** Base64 of the 64-byte signature. */
  sig: string;
}

/** A check and its answer. */
export interface CheckResult {
  /** The check's ID: ties identity.read, eligibility.result, eligibility.updated and receipt.get together. */
  checkId: string;
  /** Who: the full identity with the identity scope, else only medium and authenticity. */
  identity: Identity | MinimalIdentity;
  eligibility?: Eligibility;
  /** The chip's face image, base64 (photo scope only). */
  photo?: string;
  /** MIME type of photo. */
  photoType?: string;
  /** Answers only: true if the check was the one on the reception screen when the answer came; false for a late answer (the patient may have left the desk) and for background checks. */
  current?: boolean;
  /** Answers only: true for a check made with eligibility.check {announce: false}. */
  background?: boolean;
  receipt?: Receipt;
}

/** An identity read, before its answer. */
export interface IdentityOnly {
  /** The check's ID: ties identity.read, eligibility.result, eligibility.updated and receipt.get together. */
  checkId: string;
  /** Who: the full identity with the identity scope, else only medium and authenticity. */
  identity: Identity | MinimalIdentity;
  /** The chip's face image, base64 (photo scope only). */
  photo?: string;
  /** MIME type of photo. */
  photoType?: string;
}

/** A card reader or QR scanner. */
export interface Device {
  /** reader (PC/SC card reader) or scanner (serial or keyboard-wedge QR scanner). */
  kind: "reader" | "scanner";
  /** Reader name or serial port. */
  name: string;
  /** ready, card (a card is in the reader's field), missing (unplugged: the agent keeps looking), error. */
  state: "ready" | "card" | "missing" | "error";
  /** What is wrong, for staff; no personal data. */
  detail?: string;
}

/** The BHXH gateway's state. */
export interface Gateway {
  /** online, degraded (slow or failing now and then), offline (answers come from the cache), account-refused (the gateway refuses the facility's account: call IT). */
  state: "online" | "degraded" | "offline" | "account-refused";
  /** When it entered this state. */
  since: Instant;
  /** Why, in plain words; no personal data. */
  reason?: string;
}

/** A JSON-RPC 2.0 error object. */
export interface RpcError {
  /** -32700 parse error, -32600 invalid request, -32601 unknown method, -32602 invalid params (the message names the field and the rule), -32603 internal; -32000 hello required, -32001 unauthorized, -32002 forbidden (scope), -32003 apiLevel, -32004 not found, -32005 rate limited, -32006 busy, -32010 pairing denied, -32011 pairing expired, -32020 check failed. */
  code: number;
  /** What went wrong, in English; never the values sent. */
  message: string;
  /** Machine-readable detail. */
  data?: {
    /** One word per cause, e.g. invalid-params, missing-scope, rate-limited (docs/his-api.md lists them). */
    reason: string;
    /** For missing-scope: the scope needed. */
    scope?: Scope;
    /** For rate-limited: wait this long before sending again. */
    retryAfterMs?: number;
    /** For unsupported-api-level: the oldest level this agent speaks. */
    minApiLevel?: number;
    /** For unsupported-api-level: the newest. */
    maxApiLevel?: number;
  };
}

/** The request's id, echoed; null when it could not be read. */
export type Id = string | number | null;

/** Parameters of session.hello: the first message of every connection. */
export interface SessionHelloParams {
  /** The token from pairing (tiepdon pairing add, or pairing.request); absent before pairing. */
  token?: string;
  /** The HIS app. */
  client: {
    /** The app's name, for logs and the window. */
    name: string;
    /** Its version. */
    version?: string;
  };
  /** The API level the client was written for (required). */
  apiLevel: number;
  /** Notifications wanted; all the token allows if absent or empty. */
  events?: ("alert" | "card.presented" | "card.progress" | "device.changed" | "eligibility.result" | "eligibility.updated" | "events.dropped" | "gateway.state" | "identity.read" | "read.failed" | "pairing.code")[];
}

/** Result of session.hello. */
export interface SessionHelloResult {
  /** This connection's ID, for logs. */
  sessionId: string;
  /** New at every agent start: seq numbers count from 1 within a boot (for events.since). */
  bootId: string;
  /** The newest event's seq at hello: events.since from here misses nothing. */
  lastSeq: number;
  /** The level in effect. */
  apiLevel: number;
  /** Always tiepdon. */
  server: "tiepdon";
  /** The agent's version. */
  version: string;
  /** Whether the session has a valid token. */
  paired: boolean;
  /** The token's public ID (as tiepdon pairing list shows). */
  tokenId?: string;
  /** The token's scopes. */
  scopes: Scope[];
  /** The notifications this session receives. */
  events: ("alert" | "card.presented" | "card.progress" | "device.changed" | "eligibility.result" | "eligibility.updated" | "events.dropped" | "gateway.state" | "identity.read" | "read.failed" | "pairing.code")[];
}

/** No parameters (absent, null or {}). */
export type SystemInfoParams = Record<string, never>;

/** Result of system.info: what this agent speaks. */
export interface SystemInfoResult {
  /** Always tiepdon. */
  name: "tiepdon";
  /** The agent's version. */
  version: string;
  /** The newest API level. */
  apiLevel: number;
  /** The oldest API level still spoken. */
  minApiLevel: number;
  /** Method names. */
  methods: string[];
  /** Notification names. */
  events: string[];
  /** Scopes a token may have. */
  scopes: Scope[];
  /** Optional features, e.g. check-wait, receipts, events.dropped. */
  capabilities: string[];
  /** Per-client limits. */
  limits: {
    /** Largest message accepted; larger ones close the connection with 1009. */
    maxMessageBytes: number;
    /** Sustained requests per second (each member of a batch counts). */
    messagesPerSecond: number;
    /** Requests allowed at once above that rate. */
    burst: number;
    /** Sessions per web origin. */
    clientsPerOrigin: number;
    /** Time to send session.hello after connecting, in milliseconds. */
    helloTimeoutMs: number;
    /** Time without any frame or pong before the connection closes (4000), in milliseconds. */
    idleTimeoutMs: number;
    /** Time staff have to approve a pairing, in milliseconds. */
    pairingTimeoutMs: number;
  };
}

/** Parameters of pairing.request. */
export interface PairingRequestParams {
  /** The app's name, shown to staff. */
  name: string;
  /** The scopes wanted. */
  scopes: Scope[];
}

/** Result of pairing.request, once staff approved. */
export interface PairingRequestResult {
  /** The token: keep it secret, send it in session.hello. */
  token: string;
  /** Its public ID. */
  tokenId: string;
  /** Its scopes. */
  scopes: Scope[];
  /** The notifications this session now receives. */
  events: ("alert" | "card.presented" | "card.progress" | "device.changed" | "eligibility.result" | "eligibility.updated" | "events.dropped" | "gateway.state" | "identity.read" | "read.failed" | "pairing.code")[];
}

/** No parameters (absent, null or {}). */
export type StatusParams = Record<string, never>;

/** Result of status (and the body of /healthz). */
export interface StatusResult {
  /** ok; degraded (gateway degraded, a device missing or failing, or the disk refusing writes); offline (the gateway is offline or refuses the account). */
  status: "ok" | "degraded" | "offline";
  /** The agent's version. */
  version: string;
  /** The newest API level. */
  apiLevel: number;
  /** Seconds since the agent started. */
  uptimeSeconds: number;
  /** The gateway's state; null before the first login. */
  gateway: Gateway | null;
  /** Card readers, by name. */
  readers: Device[];
  /** QR scanners, by name. */
  scanners: Device[];
  /** The eligibility cache. */
  cache: {
    /** Age of the newest cached answer in seconds; null when empty or unknown. */
    ageSeconds: number | null;
  };
  /** Checks waiting to be re-sent to the gateway. */
  outbox: {
    /** Re-checks waiting (on disk and in memory). */
    pending: number;
    /** Of those, the ones held in memory only because the disk refuses writes. */
    unsaved: number;
    /** ok, or refusing (writes fail: see disk). */
    disk: "ok" | "refusing";
    /** Since when the disk refuses writes. */
    diskSince?: Instant;
  };
  /** Sessions with a token. */
  clients: number;
  /** The check on the reception screen (eligibility scope only). */
  current?: {
    /** Its ID. */
    checkId: string;
    verdict: Verdict;
  };
  /** Only while the data folder refuses writes: what to do. */
  disk?: {
    /** In Vietnamese. */
    fixVi: string;
    /** In English. */
    fixEn: string;
  };
  /** The reception window, when the agent knows its state. */
  window?: {
    /** open; failed (it could not open, or the toolkit failed: the agent and API run on); headless (none asked for). */
    state: "open" | "failed" | "headless";
    /** Why it failed, in plain words. */
    reason?: string;
    /** What to do, in Vietnamese. */
    fixVi?: string;
    /** What to do, in English. */
    fixEn?: string;
  };
}

/** Parameters of eligibility.check. */
export interface EligibilityCheckParams {
  /** Who to check: citizenId or cardNumber (or socialInsuranceNumber), with name and birthDate as the gateway requires. */
  identity: {
    /** Only typed (the default): an identity sent by the HIS is unverified. */
    medium?: "typed";
    /** 12 digits. */
    citizenId?: string;
    /** 9-digit CMND. */
    oldId?: string;
    /** Full name. */
    name?: string;
    /** Date of birth: dd/MM/yyyy, MM/yyyy or yyyy. */
    birthDate?: CalendarDate;
    /** M or F. */
    sex?: "M" | "F";
    /** Address. */
    address?: string;
    /** BHYT card number: 15 characters A-Z 0-9, or 10 digits. */
    cardNumber?: string;
    /** Mã số BHXH: 10 digits. */
    socialInsuranceNumber?: string;
  };
  /** Wait for the first answer and return it (default true); false returns at once with pending true. */
  wait?: boolean;
  /** How long to wait, in milliseconds (default 20000). */
  timeoutMs?: number;
  /** false makes a background check: never shown at the desk, never the patient at the counter, its answers marked background (default true). */
  announce?: boolean;
}

/** Result of eligibility.check. */
export interface EligibilityCheckResult {
  /** The check's ID; its answers come as eligibility.result and eligibility.updated with it. */
  checkId: string;
  /** true: no answer yet (not waited for, or the wait timed out); it will come as eligibility.result. */
  pending: boolean;
  /** The first answer, when waited for. */
  result?: CheckResult;
}

/** No parameters (absent, null or {}). */
export type IdentityCurrentParams = Record<string, never>;

/** Result of identity.current: the check on the reception screen, or null. */
export type IdentityCurrentResult = CheckResult | null;

/** Parameters of receipt.get. */
export interface ReceiptGetParams {
  /** A check's ID. */
  checkId: string;
}

/** Result of receipt.get: the check's latest answer, with its signed receipt. */
export type ReceiptGetResult = CheckResult;

/** Parameters of receipts.list. */
export interface ReceiptsListParams {
  /** Answers kept at or after this instant (RFC 3339; default 24 hours ago). */
  since?: Instant;
  /** The cursor of the last answer already seen (default 0). */
  after?: number;
  /** At most this many (default 100). */
  limit?: number;
}

/** Result of receipts.list. */
export interface ReceiptsListResult {
  /** Answers, oldest first. */
  results: ({
    /** The check's ID: ties identity.read, eligibility.result, eligibility.updated and receipt.get together. */
    checkId: string;
    /** Who: the full identity with the identity scope, else only medium and authenticity. */
    identity: Identity | MinimalIdentity;
    eligibility?: Eligibility;
    /** The chip's face image, base64 (photo scope only). */
    photo?: string;
    /** MIME type of photo. */
    photoType?: string;
    /** Answers only: true if the check was the one on the reception screen when the answer came; false for a late answer (the patient may have left the desk) and for background checks. */
    current?: boolean;
    /** Answers only: true for a check made with eligibility.check {announce: false}. */
    background?: boolean;
    receipt?: Receipt;
    /** This answer's place in the desk's list; pass the last one seen as after. */
    cursor: number;
    /** When the answer was kept. */
    at: Instant;
    /** The notification the answer came as. */
    kind: "eligibility.result" | "eligibility.updated";
  })[];
  /** Pass as after for the next page; absent on the last page. */
  next?: number;
}

/** Parameters of events.since. */
export interface EventsSinceParams {
  /** The bootId of session.hello or events.dropped. */
  bootId: string;
  /** The seq of the last notification seen. */
  seq: number;
}

/** Result of events.since. */
export interface EventsSinceResult {
  /** The agent's current bootId. */
  bootId: string;
  /** true when events holds every notification missed; false when the agent restarted or the oldest are gone: resync with receipts.list. */
  complete: boolean;
  /** Why not complete. */
  gap?: "agent-restarted" | "too-old";
  /** The newest event's seq now. */
  lastSeq: number;
  /** The notifications missed, oldest first, exactly as they were sent. */
  events: Notification[];
}

/** A reader or scanner appeared, went or changed state. */
export interface DeviceChangedEvent {
  /** The event's number within this boot of the agent (see bootId), increasing by one for each event of the agent (a session sees the ones its scopes allow). */
  seq: number;
  /** When the event happened. */
  time: Instant;
  /** reader (PC/SC card reader) or scanner (serial or keyboard-wedge QR scanner). */
  kind: "reader" | "scanner";
  /** Reader name or serial port. */
  name: string;
  /** ready, card (a card is in the reader's field), missing (unplugged: the agent keeps looking), error. */
  state: "ready" | "card" | "missing" | "error";
  /** What is wrong, for staff; no personal data. */
  detail?: string;
}

/** A card or QR code was presented: a check begins. */
export interface CardPresentedEvent {
  /** The event's number within this boot of the agent (see bootId), increasing by one for each event of the agent (a session sees the ones its scopes allow). */
  seq: number;
  /** When the event happened. */
  time: Instant;
  /** The check's ID. */
  checkId: string;
  medium: Medium;
  /** The reader or scanner. */
  device?: string;
}

/** Chip reading progress. */
export interface CardProgressEvent {
  /** The event's number within this boot of the agent (see bootId), increasing by one for each event of the agent (a session sees the ones its scopes allow). */
  seq: number;
  /** When the event happened. */
  time: Instant;
  /** The check's ID. */
  checkId: string;
  /** The step in progress: pace (opening the secure channel), dg1, dg2, dg13, sod (reading those files), verify (checking the files and the chip), or waiting-for-key (the chip needs the last 6 digits of the CCCD, or a QR code scanned first). */
  step: "pace" | "dg1" | "dg2" | "dg13" | "sod" | "verify" | "waiting-for-key";
  /** 0 to 100. */
  percent: number;
}

/** A card or code could not be read. */
export interface ReadFailedEvent {
  /** The event's number within this boot of the agent (see bootId), increasing by one for each event of the agent (a session sees the ones its scopes allow). */
  seq: number;
  /** When the event happened. */
  time: Instant;
  /** The check's ID, when one had begun. */
  checkId?: string;
  medium: Medium;
  /** The reader or scanner. */
  device?: string;
  /** Why, as a stable name (docs/his-api.md lists them). */
  code?: string;
  /** Why, in plain words; no personal data. */
  reason: string;
}

/** Something staff must look at (e.g. qr-chip-mismatch, clone-suspected). */
export interface AlertEvent {
  /** The event's number within this boot of the agent (see bootId), increasing by one for each event of the agent (a session sees the ones its scopes allow). */
  seq: number;
  /** When the event happened. */
  time: Instant;
  /** The check concerned. */
  checkId?: string;
  /** Stable name. */
  code: string;
  /** In plain words; no personal data. */
  message: string;
}

/** The BHXH gateway's state changed. */
export interface GatewayStateEvent {
  /** The event's number within this boot of the agent (see bootId), increasing by one for each event of the agent (a session sees the ones its scopes allow). */
  seq: number;
  /** When the event happened. */
  time: Instant;
  /** online, degraded (slow or failing now and then), offline (answers come from the cache), account-refused (the gateway refuses the facility's account: call IT). */
  state: "online" | "degraded" | "offline" | "account-refused";
  /** When it entered this state. */
  since: Instant;
  /** Why, in plain words; no personal data. */
  reason?: string;
}

/** An identity was read (identity scope). */
export interface IdentityReadEvent {
  /** The event's number within this boot of the agent (see bootId), increasing by one for each event of the agent (a session sees the ones its scopes allow). */
  seq: number;
  /** When the event happened. */
  time: Instant;
  /** The check's ID: ties identity.read, eligibility.result, eligibility.updated and receipt.get together. */
  checkId: string;
  /** Who: the full identity with the identity scope, else only medium and authenticity. */
  identity: Identity | MinimalIdentity;
  /** The chip's face image, base64 (photo scope only). */
  photo?: string;
  /** MIME type of photo. */
  photoType?: string;
}

/** The first answer of a check (eligibility scope). */
export interface EligibilityResultEvent {
  /** The event's number within this boot of the agent (see bootId), increasing by one for each event of the agent (a session sees the ones its scopes allow). */
  seq: number;
  /** When the event happened. */
  time: Instant;
  /** The check's ID: ties identity.read, eligibility.result, eligibility.updated and receipt.get together. */
  checkId: string;
  /** Who: the full identity with the identity scope, else only medium and authenticity. */
  identity: Identity | MinimalIdentity;
  eligibility: Eligibility;
  /** The chip's face image, base64 (photo scope only). */
  photo?: string;
  /** MIME type of photo. */
  photoType?: string;
  /** Answers only: true if the check was the one on the reception screen when the answer came; false for a late answer (the patient may have left the desk) and for background checks. */
  current?: boolean;
  /** Answers only: true for a check made with eligibility.check {announce: false}. */
  background?: boolean;
  receipt?: Receipt;
}

/** A later answer of a check: a re-check after the gateway came back, or a re-check of a reissued card. */
export interface EligibilityUpdatedEvent {
  /** The event's number within this boot of the agent (see bootId), increasing by one for each event of the agent (a session sees the ones its scopes allow). */
  seq: number;
  /** When the event happened. */
  time: Instant;
  /** The check's ID: ties identity.read, eligibility.result, eligibility.updated and receipt.get together. */
  checkId: string;
  /** Who: the full identity with the identity scope, else only medium and authenticity. */
  identity: Identity | MinimalIdentity;
  eligibility: Eligibility;
  /** The chip's face image, base64 (photo scope only). */
  photo?: string;
  /** MIME type of photo. */
  photoType?: string;
  /** Answers only: true if the check was the one on the reception screen when the answer came; false for a late answer (the patient may have left the desk) and for background checks. */
  current?: boolean;
  /** Answers only: true for a check made with eligibility.check {announce: false}. */
  background?: boolean;
  receipt?: Receipt;
}

/** This client read too slowly and lost notifications: fetch them with events.since. */
export interface EventsDroppedEvent {
  /** How many were lost. */
  dropped: number;
  /** The lost ones have seq from fromSeq ... */
  fromSeq: number;
  /** ... to toSeq. */
  toSeq: number;
  /** Seq of the last notification delivered before this one (0: none yet). */
  afterSeq: number;
  /** Seq of the notification delivered right after it (absent: not yet known). */
  beforeSeq?: number;
  /** For events.since. */
  bootId: string;
}

/** The code staff will see in the window while pairing.request waits: show it on the HIS page too. */
export interface PairingCodeEvent {
  /** The pairing's ID. */
  pairingId: string;
  /** 6 digits. */
  code: string;
  /** The web origin or app name staff see. */
  origin: string;
  /** When the request expires. */
  expiresAt: Instant;
}

/** Every method: its params and its result. */
export interface Methods {
  "session.hello": { params: SessionHelloParams; result: SessionHelloResult };
  "system.info": { params: SystemInfoParams; result: SystemInfoResult };
  "pairing.request": { params: PairingRequestParams; result: PairingRequestResult };
  "status": { params: StatusParams; result: StatusResult };
  "eligibility.check": { params: EligibilityCheckParams; result: EligibilityCheckResult };
  "identity.current": { params: IdentityCurrentParams; result: IdentityCurrentResult };
  "receipt.get": { params: ReceiptGetParams; result: ReceiptGetResult };
  "receipts.list": { params: ReceiptsListParams; result: ReceiptsListResult };
  "events.since": { params: EventsSinceParams; result: EventsSinceResult };
}

/** Every notification: its params. */
export interface Notifications {
  "device.changed": DeviceChangedEvent;
  "card.presented": CardPresentedEvent;
  "card.progress": CardProgressEvent;
  "read.failed": ReadFailedEvent;
  "alert": AlertEvent;
  "gateway.state": GatewayStateEvent;
  "identity.read": IdentityReadEvent;
  "eligibility.result": EligibilityResultEvent;
  "eligibility.updated": EligibilityUpdatedEvent;
  "events.dropped": EventsDroppedEvent;
  "pairing.code": PairingCodeEvent;
}

export type MethodName = keyof Methods;
export type NotificationName = keyof Notifications;

/** A notification as it arrives on the WebSocket. */
export type Notification = { [N in NotificationName]: { jsonrpc: "2.0"; method: N; params: Notifications[N] } }[NotificationName];

/** A response as it arrives on the WebSocket. */
export type Response<M extends MethodName = MethodName> =
  | { jsonrpc: "2.0"; id: Id; result: Methods[M]["result"] }
  | { jsonrpc: "2.0"; id: Id; error: RpcError };

// ---- The client (client.js, npm @tiepdon/his-client) ----

/** The API level this client was written for. */
export declare const API_LEVEL: 1;

/** Notification names, and the client's own event STATE. */
export declare const Events: {
  readonly DEVICE_CHANGED: "device.changed";
  readonly CARD_PRESENTED: "card.presented";
  readonly CARD_PROGRESS: "card.progress";
  readonly READ_FAILED: "read.failed";
  readonly ALERT: "alert";
  readonly GATEWAY_STATE: "gateway.state";
  readonly IDENTITY_READ: "identity.read";
  readonly ELIGIBILITY_RESULT: "eligibility.result";
  readonly ELIGIBILITY_UPDATED: "eligibility.updated";
  readonly EVENTS_DROPPED: "events.dropped";
  readonly PAIRING_CODE: "pairing.code";
  /** The client's own event: the connection's state changed. */
  readonly STATE: "state";
};

/** JSON-RPC error codes (stable across API levels), and the client's own DISCONNECTED and TIMEOUT. */
export declare const ErrorCodes: {
  readonly PARSE_ERROR: -32700;
  readonly INVALID_REQUEST: -32600;
  readonly METHOD_NOT_FOUND: -32601;
  readonly INVALID_PARAMS: -32602;
  readonly INTERNAL: -32603;
  readonly HELLO_REQUIRED: -32000;
  readonly UNAUTHORIZED: -32001;
  readonly FORBIDDEN: -32002;
  readonly API_LEVEL: -32003;
  readonly NOT_FOUND: -32004;
  readonly RATE_LIMITED: -32005;
  readonly BUSY: -32006;
  readonly PAIRING_DENIED: -32010;
  readonly PAIRING_EXPIRED: -32011;
  readonly CHECK_FAILED: -32020;
  /** Not connected, or the connection closed before the answer. */
  readonly DISCONNECTED: -1;
  /** No answer within the call's time limit. */
  readonly TIMEOUT: -2;
};

/** WebSocket close codes the agent uses. */
export declare const CloseCodes: {
  readonly NORMAL: 1000;
  readonly GOING_AWAY: 1001;
  readonly UNSUPPORTED_DATA: 1003;
  readonly INVALID_PAYLOAD: 1007;
  readonly POLICY_VIOLATION: 1008;
  readonly TOO_BIG: 1009;
  readonly IDLE: 4000;
  readonly TOKEN_REVOKED: 4403;
  readonly HELLO_TIMEOUT: 4408;
  readonly TOO_MANY_CLIENTS: 4429;
};

/** Detail of the client's STATE event. */
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
}
