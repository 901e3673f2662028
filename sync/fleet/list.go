package fleet

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Severity orders what needs attention: the worst desks come first.
type Severity int

const (
	OK      Severity = iota
	Notice           // worth a look: an older version, re-checks queued, a clock off
	Warning          // the desk works with less: gateway degraded or offline, a device missing, no window
	Urgent           // the desk cannot check or IT cannot see it: missing, account refused, not configured, disk full
)

func (s Severity) String() string {
	return [...]string{"ok", "notice", "warning", "urgent"}[s]
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Desk is one desk as IT sees it.
type Desk struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	ReportedAt time.Time `json:"reportedAt"` // the database server's clock
	// Silence is how long ago the last report came, by the server's clock.
	Silence time.Duration `json:"silenceSeconds"`
	Missing bool          `json:"missing"`
	// Never is set for a desk that never reported its health (it is
	// missing).
	Never bool `json:"neverReported,omitempty"`
	// ClockOffset is the desk's clock minus the database server's, when it
	// last reported (to within the report's network delay).
	ClockOffset time.Duration `json:"clockOffsetMs"`
	Status      Status        `json:"status"`
	Severity    Severity      `json:"severity"`
	// Attention lists what IT should look at, worst first; empty when the
	// desk is fine.
	Attention []string `json:"attention"`
}

// MarshalJSON writes durations as seconds and milliseconds.
func (d Desk) MarshalJSON() ([]byte, error) {
	type plain Desk
	return json.Marshal(struct {
		plain
		Silence     float64 `json:"silenceSeconds"`
		ClockOffset int64   `json:"clockOffsetMs"`
	}{plain(d), d.Silence.Seconds(), d.ClockOffset.Milliseconds()})
}

// ClockTolerance is how far a desk's clock may be off the database
// server's before the fleet mentions it (receipts and the gateway's
// records carry the desk's time).
const ClockTolerance = time.Minute

// List reads every desk that ever reported, with what needs attention,
// worst first: missing desks, then by severity, then by name. missingAfter 0 means MissingAfter.
func List(ctx context.Context, pool *pgxpool.Pool, missingAfter time.Duration) ([]Desk, error) {
	if missingAfter <= 0 {
		missingAfter = MissingAfter
	}
	// A desk that replicates but never reported (a version before fleet
	// status, or a role that may not write desk_status) is listed too.
	rows, err := pool.Query(ctx, `SELECT d.desk_id, d.name, coalesce(s.reported_at, d.first_seen),
		extract(epoch FROM now() - coalesce(s.reported_at, d.first_seen)), s.status
		FROM desks d LEFT JOIN desk_status s USING (desk_id)`)
	if err != nil {
		return nil, fmt.Errorf("reading desk_status: %w", err)
	}
	defer rows.Close()
	var desks []Desk
	for rows.Next() {
		var d Desk
		var silence float64
		var raw []byte
		if err := rows.Scan(&d.ID, &d.Name, &d.ReportedAt, &silence, &raw); err != nil {
			return nil, fmt.Errorf("reading desk_status: %w", err)
		}
		// A report a newer version wrote may hold fields this one does
		// not know; they are ignored.
		if raw == nil {
			d.Never = true
		} else if err := json.Unmarshal(raw, &d.Status); err != nil {
			d.Attention = append(d.Attention, "its last report could not be read: "+err.Error())
		}
		d.Silence = time.Duration(silence * float64(time.Second))
		if !d.Status.SentAt.IsZero() {
			d.ClockOffset = d.Status.SentAt.Sub(d.ReportedAt).Round(time.Millisecond)
		}
		d.Missing = d.Never || d.Silence > missingAfter
		desks = append(desks, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading desk_status: %w", err)
	}
	newest := ""
	for _, d := range desks {
		if !d.Missing && newerVersion(d.Status.Version, newest) {
			newest = d.Status.Version
		}
	}
	for i := range desks {
		assess(&desks[i], newest)
	}
	slices.SortStableFunc(desks, func(a, b Desk) int {
		if a.Missing != b.Missing {
			if a.Missing {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return desks, nil
}

// assess fills d's severity and attention list.
func assess(d *Desk, newest string) {
	type item struct {
		sev  Severity
		text string
	}
	var items []item
	add := func(sev Severity, format string, args ...any) {
		items = append(items, item{sev, fmt.Sprintf(format, args...)})
	}
	for _, a := range d.Attention {
		add(Warning, "%s", a)
	}
	st := d.Status
	if d.Never {
		add(Urgent, "missing: it has never reported its health (a version before fleet status, or its role may not write desk_status)")
	} else if d.Missing {
		add(Urgent, "missing: no report for %s (the PC is off, tiepdon is not running, or it cannot reach PostgreSQL)", roundAge(d.Silence))
	}
	switch st.Gateway.State {
	case "account-refused":
		add(Urgent, "the gateway refuses the facility's account: set the right password with tiepdon fleet set-password")
	case "not-configured":
		add(Urgent, "no gateway account is set up: tiepdon fleet set gateway.username, then tiepdon fleet set-password")
	case "offline":
		add(Warning, "gateway offline since %s", clock(st.Gateway.Since))
	case "degraded":
		add(Warning, "gateway slow or failing since %s", clock(st.Gateway.Since))
	}
	if st.Outbox.Disk == "refusing" {
		add(Urgent, "its data folder's disk refuses writes (full?): %d writes held in memory", st.Outbox.Unsaved)
	}
	for _, group := range []struct {
		what string
		ds   []Device
	}{{"reader", st.Readers}, {"scanner", st.Scanners}} {
		for _, dev := range group.ds {
			if dev.State == "missing" || dev.State == "error" {
				add(Warning, "%s %s is %s", group.what, dev.Name, dev.State)
			}
		}
	}
	if st.Window.State == "failed" {
		add(Warning, "the reception window could not open: %s", st.Window.Reason)
	}
	if st.SettingsError != "" {
		add(Warning, "fleet settings not applied: %s", st.SettingsError)
	}
	if st.KeyFileError != "" {
		add(Warning, "hospital key file not used: %s (copy the current key file to the desk)", st.KeyFileError)
	}
	if st.PurgeError != "" {
		add(Warning, "cannot delete expired answers in PostgreSQL: %s (run the grants of docs/hospital.md again as the owner)", st.PurgeError)
	}
	if st.Outbox.Pending > 0 {
		add(Notice, "%d checks wait for the gateway", st.Outbox.Pending)
	}
	if off := d.ClockOffset; !d.Missing && (off > ClockTolerance || off < -ClockTolerance) {
		dir := "ahead of"
		if off < 0 {
			dir, off = "behind", -off
		}
		add(Notice, "its clock is %s %s the database server", roundAge(off), dir)
	}
	if newest != "" && st.Version != "" && newerVersion(newest, st.Version) {
		add(Notice, "runs version %s, others run %s", st.Version, newest)
	}
	slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(b.sev, a.sev) })
	d.Attention = d.Attention[:0]
	d.Severity = OK
	for _, it := range items {
		d.Attention = append(d.Attention, it.text)
		d.Severity = max(d.Severity, it.sev)
	}
	if d.Attention == nil {
		d.Attention = []string{}
	}
}

// newerVersion reports whether version a is newer than b ("" is oldest):
// dotted numbers compared number by number, anything else as text.
func newerVersion(a, b string) bool {
	if b == "" {
		return a != ""
	}
	var x, y [4]int
	na, _ := fmt.Sscanf(a, "%d.%d.%d", &x[0], &x[1], &x[2])
	nb, _ := fmt.Sscanf(b, "%d.%d.%d", &y[0], &y[1], &y[2])
	if na == 3 && nb == 3 {
		return slices.Compare(x[:], y[:]) > 0
	}
	return a > b
}

func roundAge(d time.Duration) string {
	if d < time.Hour {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	if time.Since(t) > 20*time.Hour {
		return t.Local().Format("2006-01-02 15:04")
	}
	return t.Local().Format("15:04:05")
}
