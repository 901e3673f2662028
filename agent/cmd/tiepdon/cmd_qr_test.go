package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestQRParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		code     int
		kind     string
		wantOut  string // substring of stdout (JSON)
		wantErr  string // substring of stderr
	}{
		{name: "cccd", in: "001090123456|012345678|Nguyễn Văn An|01011990|Nam|Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh|15042021\n",
			code: 0, wantOut: `"citizenId": "001090123456"`},
		{name: "bhyt new", in: "0111077012|4e677579e1bb856e205469e1babf6e20c490e1baa174|29/03/1988|1|-|01 - C54|01/07/2023|-|31/07/2023|01050111077012|-|4| 01/10/2027|4641c59ff02659c3-1202|4|5175e1baad6e2043e1baa775204769e1baa579|$",
			code: 0, wantOut: `"socialInsuranceNumber": "0111077012"`},
		{name: "url", in: "https://example.com/x", code: 1, wantErr: "tiepdon qr parse:"},
		{name: "empty", in: "\n", code: 1, wantErr: "tiepdon qr parse:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runQRWith([]string{"parse"}, strings.NewReader(tc.in), &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, errb.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("stdout %s lacks %s", out.String(), tc.wantOut)
			}
			if !strings.Contains(errb.String(), tc.wantErr) {
				t.Errorf("stderr %q lacks %q", errb.String(), tc.wantErr)
			}
			if tc.code == 0 {
				var r qrResult
				if err := json.Unmarshal(out.Bytes(), &r); err != nil {
					t.Errorf("stdout is not JSON: %v", err)
				}
			} else if strings.Contains(errb.String(), "0010901") {
				t.Errorf("error leaks personal data: %s", errb.String())
			}
		})
	}
}

func TestQRParseJSONErrors(t *testing.T) {
	var out, errb bytes.Buffer
	code := runQRWith([]string{"--json-errors", "parse"}, strings.NewReader("001090123456|"), &out, &errb)
	var qe qrError
	if code != 1 || json.Unmarshal(errb.Bytes(), &qe) != nil || qe.Error == "" {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

func TestQRUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runQRWith(nil, strings.NewReader(""), &out, &errb); code != 2 {
		t.Errorf("no subcommand: exit %d, want 2", code)
	}
	if code := runQRWith([]string{"--help"}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Errorf("--help: exit %d, want 0", code)
	}
}
