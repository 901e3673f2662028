package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/tiepdon/tiepdon/agent/config"
)

// Status is the outcome of one check.
type Status string

// The outcomes, from good to bad. Only Fail makes `tiepdon doctor` exit
// non-zero (Warn too with --strict).
const (
	OK   Status = "ok"   // works
	Skip Status = "skip" // not checked: switched off, or an earlier check failed
	Warn Status = "warn" // works, but something is likely to bite
	Fail Status = "fail" // does not work; Fix says what to do
)

// Text is one message in English and Vietnamese.
type Text struct {
	EN string `json:"en"`
	VI string `json:"vi"`
}

// In returns the text in lang ("vi" or "en"); English for anything else.
func (t Text) In(lang string) string {
	if lang == "vi" && t.VI != "" {
		return t.VI
	}
	return t.EN
}

func (t Text) empty() bool { return t.EN == "" && t.VI == "" }

// bi builds a Text from an English and a Vietnamese format with the same
// arguments.
func bi(en, vi string, args ...any) Text {
	return Text{EN: fmt.Sprintf(en, args...), VI: fmt.Sprintf(vi, args...)}
}

// Result is the finding of one check.
type Result struct {
	// Check is the stable name of the check: config, locked-settings,
	// data-dir, his-port, window, browser-policy, pcsc-service,
	// card-readers, scanner, gateway, gateway-account, clock, and in
	// hospital mode hospital-keys.
	Check  string `json:"check"`
	Status Status `json:"status"`
	// Found says what the check saw.
	Found Text `json:"found"`
	// Fix says what to do about it; empty when nothing needs doing.
	Fix Text `json:"fix,omitzero"`
}

// Report is the outcome of a doctor run.
type Report struct {
	Version string    `json:"version"`
	OS      string    `json:"os"`
	Time    time.Time `json:"time"`
	Results []Result  `json:"results"`
}

// Count returns how many results have status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, x := range r.Results {
		if x.Status == s {
			n++
		}
	}
	return n
}

// Result returns the result of the named check, if it ran.
func (r *Report) Result(check string) (Result, bool) {
	for _, x := range r.Results {
		if x.Check == check {
			return x, true
		}
	}
	return Result{}, false
}

// ExitCode is 1 if a check failed (or, with strict, warned) and 0 otherwise.
func (r *Report) ExitCode(strict bool) int {
	if r.Count(Fail) > 0 || (strict && r.Count(Warn) > 0) {
		return 1
	}
	return 0
}

var labels = map[Status]string{OK: " OK ", Skip: "SKIP", Warn: "WARN", Fail: "FAIL"}

// WriteText prints the report for people, in lang ("vi" or "en").
func (r *Report) WriteText(w io.Writer, lang string) error {
	var b strings.Builder
	head := bi("tiepdon doctor: %s, %s, %s", "tiepdon doctor: %s, %s, %s",
		r.Version, r.OS, r.Time.Local().Format("2006-01-02 15:04:05 MST"))
	b.WriteString(head.In(lang) + "\n\n")
	for _, x := range r.Results {
		fmt.Fprintf(&b, "[%s] %-16s %s\n", labels[x.Status], x.Check, indent(x.Found.In(lang)))
		if !x.Fix.empty() {
			fmt.Fprintf(&b, "       %-16s → %s\n", "", indent(x.Fix.In(lang)))
		}
	}
	fails, warns := r.Count(Fail), r.Count(Warn)
	var sum Text
	switch {
	case fails == 0 && warns == 0:
		sum = bi("All checks passed.", "Mọi kiểm tra đều đạt.")
	default:
		sum = bi("%d problem(s), %d warning(s). Fix the FAIL lines first, then run `tiepdon doctor` again.",
			"%d lỗi, %d cảnh báo. Hãy sửa các dòng FAIL trước, rồi chạy lại `tiepdon doctor`.", fails, warns)
	}
	b.WriteString("\n" + sum.In(lang) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func indent(s string) string {
	return strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", 26))
}

// Options are the parts the checks look at. Nil functions skip their checks.
type Options struct {
	// Version is the version of tiepdon that runs the checks.
	Version string
	// Config is the loaded configuration; ConfigErr the error loading it,
	// if any (the other checks then run on the defaults).
	Config    *config.Config
	ConfigErr error
	// ListReaders lists the PC/SC readers. An error wrapping ErrNoService
	// means the PC/SC service is not running.
	ListReaders func() ([]string, error)
	// ListPorts lists serial ports; nil uses [SerialPorts].
	ListPorts func() ([]Port, error)
	// CSCAs lists the trusted country signing CAs the chip reads use;
	// nil leaves the check out.
	CSCAs func() ([]CSCAInfo, error)
	// HospitalKeys reads the hospital key file and asks PostgreSQL which
	// keys its data needs; nil leaves the hospital-keys check out.
	HospitalKeys func(context.Context, *config.Config) (KeyFile, error)
	// HTTP is the client for the gateway and for recognising a running
	// tiepdon on the HIS port; nil uses a client with Config.Gateway.Timeout.
	HTTP *http.Client
	// Now is the clock to compare with the gateway's; nil uses time.Now.
	Now func() time.Time
	// BrowserPolicies reads the browsers' loopback policies; nil uses
	// [SystemBrowserPolicies].
	BrowserPolicies func() BrowserPolicies
}

// ErrNoService is what ListReaders wraps when the PC/SC service (pcscd,
// SCardSvr) is not running.
var ErrNoService = errors.New("PC/SC service not available")

// Run runs every check, the slow network ones in parallel, and returns the
// report in a fixed order.
func Run(ctx context.Context, o Options) Report {
	cfg := o.Config
	if cfg == nil {
		d := config.Default()
		cfg = &d
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	client := o.HTTP
	if client == nil {
		t := cfg.Gateway.Timeout.Duration
		if t <= 0 {
			t = 10 * time.Second
		}
		client = &http.Client{Timeout: t}
	}
	listPorts := o.ListPorts
	if listPorts == nil {
		listPorts = SerialPorts
	}
	policies := o.BrowserPolicies
	if policies == nil {
		policies = SystemBrowserPolicies
	}
	rep := Report{Version: o.Version, OS: runtime.GOOS + "/" + runtime.GOARCH, Time: now()}

	var (
		wg              sync.WaitGroup
		gw              []Result
		his, pcsc, scan []Result
		keys            Result
	)
	if o.HospitalKeys != nil {
		wg.Go(func() { keys = HospitalKeys(ctx, cfg, o.HospitalKeys) })
	}
	wg.Go(func() {
		gw = Gateway(ctx, client, GatewayParams{
			URL: cfg.Gateway.URL, Username: cfg.Gateway.Username, Password: cfg.Gateway.Password,
			MD5Case: cfg.Gateway.MD5Case, Encoding: cfg.Gateway.Encoding,
		}, now)
	})
	wg.Go(func() { his = []Result{HISPort(ctx, client, cfg.HIS.Addr), Window(ctx, client, cfg.HIS.Addr)} })
	wg.Go(func() {
		if o.ListReaders == nil {
			pcsc = []Result{{Check: "pcsc-service", Status: Skip, Found: bi("Not checked.", "Không kiểm tra.")}}
			return
		}
		pcsc = PCSC(o.ListReaders, cfg.Reader.Name)
	})
	wg.Go(func() { scan = []Result{Scanner(cfg.Scanner.Port, listPorts)} })
	wg.Wait()

	rep.Results = append(rep.Results, Config(cfg, o.ConfigErr), Locks(cfg, ReadIgnoredFlags(cfg.ResolvedDataDir())), DataDir(cfg.ResolvedDataDir()))
	rep.Results = append(rep.Results, his...)
	rep.Results = append(rep.Results, BrowserPolicy(cfg.HIS.Origins, policies()))
	rep.Results = append(rep.Results, pcsc...)
	if o.CSCAs != nil {
		rep.Results = append(rep.Results, CSCA(cfg.Reader.Disabled, o.CSCAs, now()))
	}
	rep.Results = append(rep.Results, scan...)
	rep.Results = append(rep.Results, gw...)
	if cfg.Hospital.DSN != "" && o.HospitalKeys != nil {
		rep.Results = append(rep.Results, keys)
	}
	return rep
}
