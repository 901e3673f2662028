package hisapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
)

var decodeCases = []struct {
	name   string
	in     string
	method string
	id     string // "" = notification
	code   int    // 0 = accepted
}{
	// accepted
	{"number id", `{"jsonrpc":"2.0","id":1,"method":"status"}`, "status", "1", 0},
	{"string id", `{"jsonrpc":"2.0","id":"a-1","method":"status","params":{}}`, "status", `"a-1"`, 0},
	{"null id", `{"jsonrpc":"2.0","id":null,"method":"status"}`, "status", "null", 0},
	{"negative id", `{"jsonrpc":"2.0","id":-5,"method":"x"}`, "x", "-5", 0},
	{"notification", `{"jsonrpc":"2.0","method":"status"}`, "status", "", 0},
	{"array params", `{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}`, "x", "1", 0},
	{"null params", `{"jsonrpc":"2.0","id":1,"method":"x","params":null}`, "x", "1", 0},
	{"extra fields ignored", `{"jsonrpc":"2.0","id":1,"method":"x","extra":true}`, "x", "1", 0},
	{"whitespace", " \n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"x\"}\n", "x", "2", 0},
	// refused
	{"not JSON", `{"jsonrpc":"2.0",`, "", "null", CodeParseError},
	{"empty", ``, "", "null", CodeParseError},
	{"two values", `{} {}`, "", "null", CodeParseError},
	{"batch", `[{"jsonrpc":"2.0","id":1,"method":"x"}]`, "", "null", CodeInvalidRequest},
	{"string", `"x"`, "", "null", CodeInvalidRequest},
	{"number", `42`, "", "null", CodeInvalidRequest},
	{"null", `null`, "", "null", CodeInvalidRequest},
	{"object id", `{"jsonrpc":"2.0","id":{},"method":"x"}`, "", "null", CodeInvalidRequest},
	{"bool id", `{"jsonrpc":"2.0","id":true,"method":"x"}`, "", "null", CodeInvalidRequest},
	{"no version", `{"id":3,"method":"x"}`, "", "3", CodeInvalidRequest},
	{"old version", `{"jsonrpc":"1.0","id":3,"method":"x"}`, "", "3", CodeInvalidRequest},
	{"no method", `{"jsonrpc":"2.0","id":3}`, "", "3", CodeInvalidRequest},
	{"empty method", `{"jsonrpc":"2.0","id":3,"method":""}`, "", "3", CodeInvalidRequest},
	{"method not string", `{"jsonrpc":"2.0","id":3,"method":7}`, "", "3", CodeInvalidRequest},
	{"string params", `{"jsonrpc":"2.0","id":3,"method":"x","params":"a"}`, "", "3", CodeInvalidRequest},
}

func TestDecodeRequest(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			r, e := decodeRequest([]byte(tc.in))
			if tc.code != 0 {
				if e == nil || e.Code != tc.code {
					t.Fatalf("got %+v, want error %d", e, tc.code)
				}
				if string(r.ID) != tc.id {
					t.Errorf("answer id %s, want %s", r.ID, tc.id)
				}
				return
			}
			if e != nil {
				t.Fatalf("error %v", e)
			}
			if r.Method != tc.method || string(r.ID) != tc.id || r.notification() != (tc.id == "") {
				t.Fatalf("got %+v", r)
			}
		})
	}
}

// FuzzDecodeRequest feeds arbitrary frames to the decoder: it must never
// panic, every refusal must be answerable, and every accepted request must
// have a method and an ID that can be echoed back as valid JSON.
func FuzzDecodeRequest(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add([]byte(tc.in))
	}
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"eligibility.check","params":{"identity":{"citizenId":"001099012345","birthDate":"17/05/1990"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, e := decodeRequest(b)
		resp, err := encodeResponse(r.ID, map[string]int{"ok": 1}, e)
		if err != nil || !json.Valid(resp) {
			t.Fatalf("response not encodable: %v %q", err, resp)
		}
		if e != nil {
			if e.Data == nil || e.Data.Reason == "" || (e.Code != CodeInvalidRequest && e.Code != CodeParseError) {
				t.Fatalf("bad error %+v", e)
			}
			return
		}
		if r.Method == "" || (r.ID != nil && !json.Valid(r.ID)) {
			t.Fatalf("accepted %q as %+v", b, r)
		}
		// Params decoding must not panic either.
		var p checkParams
		if decodeParams(r.Params, &p) == nil {
			p.Identity.identity()
		}
	})
}

func TestEncodeEvent(t *testing.T) {
	ev := events.Event{Seq: 42, Time: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC), Kind: events.GatewayChanged,
		Data: events.Gateway{State: events.GatewayOnline, Since: time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)}}
	b, err := encodeEvent(ev, viewEligibility)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"jsonrpc":"2.0","method":"gateway.state","params":{"seq":42,"time":"2026-11-23T08:00:00.000Z","state":"online","since":"2026-11-23T07:00:00.000Z"}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	// The cache gives the same bytes for the same event and view, and
	// different ones per view for personal payloads.
	c := newEncCache(4)
	r := events.Event{Seq: 7, Kind: events.EligibilityResult, Data: events.Result{CheckID: "c", Identity: sampleIdentity(), Eligibility: patient.Eligibility{Verdict: patient.Eligible}}}
	a1, _ := c.get(r, viewEligibility)
	a2, _ := c.get(r, viewEligibility)
	p1, _ := c.get(r, viewPhoto)
	if &a1[0] != &a2[0] || string(a1) == string(p1) {
		t.Fatal("cache does not share or does not separate views")
	}
	for i := range 10 { // eviction keeps working
		c.get(events.Event{Seq: uint64(100 + i), Kind: events.Alert, Data: events.AlertData{Code: "x"}}, viewPhoto)
	}
	if len(c.m) != 4 {
		t.Fatalf("cache holds %d entries, want 4", len(c.m))
	}
}

func TestEligibilityViewDurations(t *testing.T) {
	for _, tc := range []struct {
		age, latency          time.Duration
		ageSeconds, latencyMs any // nil: absent
	}{
		{0, 0, nil, nil},
		{0, 412340 * time.Microsecond, nil, 412.3},
		{95250 * time.Millisecond, 0, 95.3, nil},
		{20 * time.Millisecond, 0, 0.0, nil}, // cached a moment ago: present, 0
	} {
		b, err := json.Marshal(eligibilityViewOf(patient.Eligibility{Verdict: patient.Eligible, Source: patient.SourceLive, Age: tc.age, Latency: tc.latency}))
		var m map[string]any
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil || m["verdict"] != "eligible" || m["ageSeconds"] != tc.ageSeconds || m["latencyMs"] != tc.latencyMs ||
			(tc.age != 0) != (m["age"] != nil) || (tc.latency != 0) != (m["latency"] != nil) {
			t.Errorf("age %v latency %v: got %s %v, want ageSeconds %v latencyMs %v", tc.age, tc.latency, b, err, tc.ageSeconds, tc.latencyMs)
		}
	}
}
