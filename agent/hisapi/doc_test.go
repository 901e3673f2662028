package hisapi

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestProtocolDocumented keeps docs/his-api.md in step with the code: every
// method, notification, scope, error code, error reason and close code the
// server can produce is named there.
func TestProtocolDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/his-api.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	want := map[string][]string{
		"method":       MethodNames(),
		"notification": append(EventNames(), "events.dropped", "pairing.code"),
		"capability":   Capabilities,
	}
	for _, s := range AllScopes {
		want["scope"] = append(want["scope"], string(s))
	}
	for _, c := range []int{CodeParseError, CodeInvalidRequest, CodeMethodNotFound, CodeInvalidParams, CodeInternal,
		CodeHelloRequired, CodeUnauthorized, CodeForbidden, CodeAPILevel, CodeNotFound, CodeRateLimited, CodeBusy,
		CodeCheckFailed, CodePairingDenied, CodePairingExpired} {
		want["error code"] = append(want["error code"], strconv.Itoa(c))
	}
	want["error reason"] = []string{ReasonParse, ReasonBatch, ReasonBadRequest, ReasonUnknownMethod, ReasonBadParams,
		ReasonInternal, ReasonHelloRequired, ReasonNoToken, ReasonUnknownToken, ReasonTokenRevoked, ReasonOriginMismatch,
		ReasonScope, ReasonAPILevel, ReasonNotFound, ReasonRateLimited, ReasonBusy, ReasonPairingPending, ReasonCheckFailed,
		ReasonPairingDenied, ReasonPairingExpired, ReasonPairingTooMany, ReasonAlreadyPaired}
	for _, c := range []int{CloseHelloTimeout, CloseTooManyClients, CloseTokenRevoked, CloseIdle, 1001, 1003, 1008, 1009} {
		want["close code"] = append(want["close code"], strconv.Itoa(c))
	}
	for what, names := range want {
		for _, n := range names {
			if !strings.Contains(doc, "`"+n+"`") && !strings.Contains(doc, "| "+n+" |") {
				t.Errorf("docs/his-api.md does not document the %s %s", what, n)
			}
		}
	}
}
