package config

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestSaveUserKeepsOtherKeys(t *testing.T) {
	f := filepath.Join(t.TempDir(), "tiepdon", "config.toml")
	os.MkdirAll(filepath.Dir(f), 0o700)
	os.WriteFile(f, []byte("[gateway]\nmd5_case = \"lower\"\n[log]\nlevel = \"debug\"\n"), 0o600)
	c, err := Load(f, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	c.Language = "en"
	c.Gateway.URL = "https://daotaoegw.baohiemxahoi.gov.vn"
	c.HIS.Origins = []string{"https://his.benhvien.vn"}
	c.Cache.Retention.Duration = 48 * time.Hour
	if err := SaveUser(f, c); err != nil {
		t.Fatal(err)
	}
	back, err := Load(f, env(nil))
	if err != nil {
		t.Fatalf("reading back: %v", err)
	}
	if back.Language != "en" || back.Gateway.URL != c.Gateway.URL || back.HIS.Origins[0] != "https://his.benhvien.vn" ||
		back.Cache.Retention.Duration != 48*time.Hour {
		t.Errorf("not saved: %+v", back)
	}
	if back.Gateway.MD5Case != "lower" || back.Log.Level != "debug" {
		t.Errorf("keys the window does not manage were lost: md5 %q log %q", back.Gateway.MD5Case, back.Log.Level)
	}
	// Windows has no mode bits (Go reports 0666 for a writable file): the
	// file is private by the ACL it inherits from the user's profile.
	if fi, _ := os.Stat(f); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	c.Gateway.URL = "ftp://x"
	if err := SaveUser(f, c); err == nil {
		t.Error("an invalid config was saved")
	}
}

// fakeRing is an OS keyring that works, or fails like a Linux box without D-Bus.
type fakeRing struct {
	m    map[string]string
	fail bool
}

func (r *fakeRing) Get(s, u string) (string, error) {
	if r.fail {
		return "", errors.New("no dbus")
	}
	v, ok := r.m[s+"/"+u]
	if !ok {
		return "", errors.New("not found")
	}
	return v, nil
}
func (r *fakeRing) Set(s, u, p string) error {
	if r.fail {
		return errors.New("no dbus")
	}
	r.m[s+"/"+u] = p
	return nil
}
func (r *fakeRing) Delete(s, u string) error { delete(r.m, s+"/"+u); return nil }

func TestPasswordStore(t *testing.T) {
	dir := t.TempDir()
	ring := &fakeRing{m: map[string]string{}}
	ps := PasswordStore{DataDir: dir, Keyring: ring}
	in, err := ps.Save("79014_BV", "pw1")
	if err != nil || !in {
		t.Fatalf("Save with keyring: in=%v err=%v", in, err)
	}
	if pw, in, ok := ps.Load("79014_BV"); !ok || !in || pw != "pw1" {
		t.Errorf("Load = %q %v %v", pw, in, ok)
	}

	ring.fail = true // no keyring: fall back to a 0600 file
	in, err = ps.Save("79014_BV", "pw2 with spaces")
	if err != nil || in {
		t.Fatalf("Save without keyring: in=%v err=%v", in, err)
	}
	fi, err := os.Stat(filepath.Join(dir, secretFile))
	if err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Fatalf("fallback file: %v %v", fi, err)
	}
	if pw, in, ok := ps.Load("79014_BV"); !ok || in || pw != "pw2 with spaces" {
		t.Errorf("Load = %q %v %v", pw, in, ok)
	}
	if _, _, ok := ps.Load("01929_BV"); ok {
		t.Error("password returned for another account")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, secretFile)); !strings.HasPrefix(string(b), "79014_BV\n") {
		t.Errorf("file layout %q", b)
	}
}
