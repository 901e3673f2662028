package main

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

func TestHelpOnEveryCommand(t *testing.T) {
	for _, name := range []string{"run", "sim", "qr", "version"} {
		if _, ok := commands[name]; !ok {
			t.Errorf("command %q is not registered", name)
		}
	}
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := dispatch(context.Background(), []string{name, "--help"}, &out, &errb); code != 0 {
				t.Errorf("%s --help: exit %d", name, code)
			}
			if !strings.Contains(out.String()+errb.String(), "Usage: tiepdon "+name) {
				t.Errorf("%s --help prints no usage line: %q", name, out.String()+errb.String())
			}
		})
	}
}

func TestDispatch(t *testing.T) {
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, stderr %q", code, errb.String())
	}
	out.Reset()
	if code := dispatch(context.Background(), []string{"help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "qr") {
		t.Errorf("help: exit %d, out %q", code, out.String())
	}
	out.Reset()
	if code := dispatch(context.Background(), []string{"version", "--json"}, &out, &errb); code != 0 {
		t.Fatalf("version: exit %d", code)
	}
	var b buildInfo
	if err := json.Unmarshal(out.Bytes(), &b); err != nil || b.Version == "" || b.GoVersion == "" {
		t.Errorf("version --json = %q (%v)", out.String(), err)
	}
	if runtime.GOOS == "linux" && !b.JPEG2000 { // the Linux build links Debian's libopenjp2
		t.Errorf("version --json = %q: a Linux build decodes JPEG 2000", out.String())
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	t.Setenv("TIEPDON_CONFIG", "")
	var out, errb bytes.Buffer
	code := dispatch(context.Background(), []string{"run", "--headless", "--data-dir", t.TempDir(), "--his-addr", "0.0.0.0:8733"}, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "loopback") {
		t.Errorf("non-loopback HIS address: exit %d, stderr %q", code, errb.String())
	}
}
