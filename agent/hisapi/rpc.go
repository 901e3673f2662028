package hisapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// JSON-RPC 2.0 error codes. The first five are the standard ones; the
// others are tiepdon's and are stable across API levels (docs/his-api.md).
const (
	CodeParseError     = -32700 // the message is not JSON
	CodeInvalidRequest = -32600 // JSON, but not a JSON-RPC 2.0 request (or a batch)
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternal       = -32603

	CodeHelloRequired  = -32000 // a method other than session.hello, system.info or pairing.request before a successful hello
	CodeUnauthorized   = -32001 // token unknown, revoked or issued to another origin; or no token
	CodeForbidden      = -32002 // the token lacks the scope this method or field needs
	CodeAPILevel       = -32003 // the client's apiLevel is not supported
	CodeNotFound       = -32004 // e.g. receipt.get for an unknown check ID
	CodeRateLimited    = -32005 // too many messages per second from this client
	CodeBusy           = -32006 // too many calls in flight on this connection, or a pairing already pending
	CodeCheckFailed    = -32020 // the agent could not start the check (message is safe to show)
	CodePairingDenied  = -32010 // staff refused the pairing at the reception window
	CodePairingExpired = -32011 // nobody approved the pairing in time
)

// Error reasons: machine-readable words in error.data.reason, one per cause.
const (
	ReasonParse          = "parse-error"
	ReasonBatch          = "batch-not-supported"
	ReasonBadRequest     = "invalid-request"
	ReasonUnknownMethod  = "unknown-method"
	ReasonBadParams      = "invalid-params"
	ReasonInternal       = "internal"
	ReasonHelloRequired  = "hello-required"
	ReasonNoToken        = "no-token"
	ReasonUnknownToken   = "unknown-token"
	ReasonTokenRevoked   = "token-revoked"
	ReasonOriginMismatch = "origin-mismatch"
	ReasonScope          = "missing-scope"
	ReasonAPILevel       = "unsupported-api-level"
	ReasonNotFound       = "not-found"
	ReasonRateLimited    = "rate-limited"
	ReasonBusy           = "busy"
	ReasonPairingPending = "pairing-pending"
	ReasonCheckFailed    = "check-failed"
	ReasonPairingDenied  = "pairing-denied"
	ReasonPairingExpired = "pairing-expired"
	ReasonPairingTooMany = "too-many-pairings"
	ReasonAlreadyPaired  = "already-paired"
)

// Error is a JSON-RPC 2.0 error object.
type Error struct {
	Code    int        `json:"code"`
	Message string     `json:"message"`
	Data    *ErrorData `json:"data,omitempty"`
}

// ErrorData is the data member of tiepdon's errors.
type ErrorData struct {
	Reason       string `json:"reason"`
	Scope        Scope  `json:"scope,omitempty"`        // for missing-scope
	RetryAfterMS int64  `json:"retryAfterMs,omitempty"` // for rate-limited
	MinAPILevel  int    `json:"minApiLevel,omitempty"`  // for unsupported-api-level
	MaxAPILevel  int    `json:"maxApiLevel,omitempty"`
}

// Error implements error, for Go clients of the API.
func (e *Error) Error() string { return fmt.Sprintf("json-rpc error %d: %s", e.Code, e.Message) }

func rpcError(code int, reason, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Data: &ErrorData{Reason: reason}}
}

// request is a decoded JSON-RPC 2.0 request or notification.
type request struct {
	ID     json.RawMessage // nil for a notification; otherwise a string, number or null
	Method string
	Params json.RawMessage // nil if absent; otherwise an object, array or null
}

// notification reports whether the client expects no answer.
func (r request) notification() bool { return r.ID == nil }

var nullID = json.RawMessage("null")

// decodeRequest reads one JSON-RPC 2.0 request. On error it returns the ID
// to answer with (null if the request's own ID could not be read) and the
// error to send.
func decodeRequest(b []byte) (request, *Error) {
	b = bytes.TrimSpace(b)
	if !json.Valid(b) {
		return request{ID: nullID}, rpcError(CodeParseError, ReasonParse, "message is not valid JSON")
	}
	if len(b) > 0 && b[0] == '[' {
		return request{ID: nullID}, rpcError(CodeInvalidRequest, ReasonBatch, "batch requests are not supported: send one request per message")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return request{ID: nullID}, rpcError(CodeInvalidRequest, ReasonBadRequest, "a request must be a JSON object")
	}
	var r request
	if id, ok := m["id"]; ok {
		switch {
		case len(id) > 0 && (id[0] == '"' || id[0] == '-' || (id[0] >= '0' && id[0] <= '9')):
			if len(id) > 200 {
				return request{ID: nullID}, rpcError(CodeInvalidRequest, ReasonBadRequest, "id is too long")
			}
			r.ID = id
		case string(id) == "null":
			r.ID = nullID
		default:
			return request{ID: nullID}, rpcError(CodeInvalidRequest, ReasonBadRequest, "id must be a string, a number or null")
		}
	}
	answerID := r.ID
	if answerID == nil {
		answerID = nullID
	}
	var version string
	if v, ok := m["jsonrpc"]; !ok || json.Unmarshal(v, &version) != nil || version != "2.0" {
		return request{ID: answerID}, rpcError(CodeInvalidRequest, ReasonBadRequest, `"jsonrpc" must be "2.0"`)
	}
	if v, ok := m["method"]; !ok || json.Unmarshal(v, &r.Method) != nil || r.Method == "" {
		return request{ID: answerID}, rpcError(CodeInvalidRequest, ReasonBadRequest, `"method" must be a non-empty string`)
	}
	if len(r.Method) > 64 {
		return request{ID: answerID}, rpcError(CodeInvalidRequest, ReasonBadRequest, `"method" is too long`)
	}
	if p, ok := m["params"]; ok {
		if c := p[0]; c != '{' && c != '[' && string(p) != "null" {
			return request{ID: answerID}, rpcError(CodeInvalidRequest, ReasonBadRequest, `"params" must be an object`)
		}
		r.Params = p
	}
	return r, nil
}

// decodeParams reads a request's params (absent or null meaning {}) into v,
// refusing unknown fields so that typos are caught.
func decodeParams(p json.RawMessage, v any) *Error {
	if len(p) == 0 || string(p) == "null" {
		return nil
	}
	if p[0] == '[' {
		return rpcError(CodeInvalidParams, ReasonBadParams, "params must be an object: this API takes parameters by name, not by position")
	}
	// Names match exactly (case-sensitive), unknown and repeated names are
	// refused, and strings must be valid UTF-8 (encoding/json v2 semantics).
	if err := jsonv2.Unmarshal(p, v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return rpcError(CodeInvalidParams, ReasonBadParams, "invalid params: %s", describeJSONError(err))
	}
	return nil
}

// fieldRules says what a field that failed to decode must look like; the
// message names the field and the rule, never the value sent (it may be
// personal data).
var fieldRules = map[string]string{
	"identity.birthDate":  "a date as dd/MM/yyyy, MM/yyyy or yyyy",
	"identity.citizenId":  "12 digits, as a string",
	"identity.cardNumber": "15 characters A-Z 0-9, or 10 digits, as a string",
	"identity.sex":        `"M" or "F"`,
	"apiLevel":            "an integer",
	"timeoutMs":           "an integer of milliseconds, 1 to 60000",
}

// describeJSONError says which field failed and why, without echoing the
// values sent.
func describeJSONError(err error) string {
	var sem *jsonv2.SemanticError
	var syn *jsontext.SyntacticError
	switch {
	case errors.As(err, &syn):
		field := pointerField(syn.JSONPointer)
		if errors.Is(syn.Err, jsontext.ErrDuplicateName) {
			return fmt.Sprintf("field %q is given twice", field)
		}
		if field != "" {
			return fmt.Sprintf("field %q is not valid JSON (strings must be UTF-8)", field)
		}
		return "malformed JSON"
	case errors.As(err, &sem):
		field := pointerField(sem.JSONPointer)
		if errors.Is(sem.Err, jsonv2.ErrUnknownName) {
			return fmt.Sprintf("unknown field %q (names are case-sensitive: see docs/his-api.md)", field)
		}
		if rule, ok := fieldRules[field]; ok {
			return fmt.Sprintf("field %q must be %s", field, rule)
		}
		if sem.GoType != nil {
			return fmt.Sprintf("field %q has the wrong type (want %s)", field, jsonKindOf(sem.GoType))
		}
		return fmt.Sprintf("field %q has an invalid value", field)
	}
	return "a field has an invalid value"
}

// pointerField turns a JSON Pointer (RFC 6901) into a dotted field name.
func pointerField(p jsontext.Pointer) string {
	var parts []string
	for tok := range p.Tokens() {
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}

func jsonKindOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return jsonKindOf(t.Elem())
	}
	return t.String()
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

// encodeResponse returns the JSON of a response to id.
func encodeResponse(id json.RawMessage, result any, rerr *Error) ([]byte, error) {
	if id == nil {
		id = nullID
	}
	if rerr == nil && result == nil {
		result = struct{}{}
	}
	return marshalWire(response{JSONRPC: "2.0", ID: id, Result: result, Error: rerr})
}

type notificationMsg struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
}

// encodeNotification returns the JSON of a notification.
func encodeNotification(method string, params any) ([]byte, error) {
	return marshalWire(notificationMsg{JSONRPC: "2.0", Method: method, Params: params})
}
