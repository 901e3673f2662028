package doctor

import (
	"fmt"
	"strings"

	"github.com/tiepdon/tiepdon/agent/config"
)

// Locks lists the settings IT has locked (the machine-wide file's locked
// list, the fleet settings' --lock) and, for each value a user's own file,
// the environment or a flag gave a locked key, says that the lock put IT's
// value back: why a desk ignores a change made there. flags are the locked
// keys the running agent's flags set (ReadIgnoredFlags).
func Locks(c *config.Config, flags IgnoredFlags) Result {
	r := Result{Check: "locked-settings"}
	keys := c.LockedKeys()
	if len(keys) == 0 {
		r.Status = OK
		r.Found = bi("No setting is locked by IT.", "Không có thiết lập nào bị IT khoá.")
		return r
	}
	var machine, fleet []string
	for _, k := range keys {
		if by, _ := c.Locked(k); by == "fleet settings" {
			fleet = append(fleet, k)
		} else {
			machine = append(machine, k)
		}
	}
	var en, vi []string
	if len(machine) > 0 {
		en = append(en, fmt.Sprintf("%s (the machine-wide file %s)", strings.Join(machine, ", "), config.MachineConfigFile()))
		vi = append(vi, fmt.Sprintf("%s (tệp cấu hình chung của máy %s)", strings.Join(machine, ", "), config.MachineConfigFile()))
	}
	if len(fleet) > 0 {
		en = append(en, strings.Join(fleet, ", ")+" (the hospital's fleet settings)")
		vi = append(vi, strings.Join(fleet, ", ")+" (thiết lập chung của bệnh viện)")
	}
	r.Found = Text{EN: "Locked by IT: " + strings.Join(en, "; ") + ".", VI: "IT đã khoá: " + strings.Join(vi, "; ") + "."}
	ignored := c.IgnoredFrom
	for _, k := range flags.Keys {
		if _, ok := c.Locked(k); ok {
			ignored = append(ignored, config.IgnoredSetting{Key: k, From: config.FromFlag})
		}
	}
	if len(ignored) == 0 {
		r.Status = OK
		r.Found.EN += " Nothing on this PC tries to change them."
		r.Found.VI += " Không có gì trên máy này cố thay đổi chúng."
		return r
	}
	r.Status = Warn
	for _, ig := range ignored {
		var where Text
		switch ig.From {
		case config.FromUserFile:
			where = bi("the user's own file %s", "tệp riêng của người dùng %s", ig.Where)
		case config.FromEnv:
			where = bi("the environment variable %s", "biến môi trường %s", ig.Where)
		case config.FromFlag:
			if flags.Started.IsZero() {
				where = bi("a command-line flag of tiepdon run", "một tham số dòng lệnh của tiepdon run")
			} else {
				at := flags.Started.Local().Format("2006-01-02 15:04")
				where = bi("a command-line flag of the tiepdon run started %s", "một tham số dòng lệnh của tiepdon run khởi động lúc %s", at)
			}
		default:
			where = Text{EN: ig.From, VI: ig.From}
		}
		r.Found.EN += fmt.Sprintf("\n%s is set in %s, but the lock keeps IT's value: that change is ignored.", ig.Key, where.EN)
		r.Found.VI += fmt.Sprintf("\n%s được đặt trong %s, nhưng khoá giữ giá trị của IT: thay đổi đó bị bỏ qua.", ig.Key, where.VI)
	}
	r.Fix = bi("Nothing breaks: tiepdon uses IT's value. To silence this, remove those settings from where they are set; to let this PC change one, IT takes it out of the locked list (or sets it again without --lock: tiepdon fleet set).",
		"Không có gì hỏng: tiepdon dùng giá trị của IT. Để hết cảnh báo, xoá các thiết lập đó khỏi nơi đặt chúng; để máy này được đổi, IT bỏ khoá đó khỏi danh sách locked (hoặc đặt lại không có --lock: tiepdon fleet set).")
	return r
}
