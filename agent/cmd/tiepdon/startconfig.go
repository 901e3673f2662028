package main

import (
	"fmt"
	"os"
	"slices"

	"github.com/tiepdon/tiepdon/agent/config"
)

// setupIssue is a setting a person must fix for the desk to work fully.
// tiepdon does not exit on it: it starts "needing setup" (the gateway not
// configured, or without the user's settings file) and says what to fix.
type setupIssue struct {
	EN, VI string
}

func (i setupIssue) Error() string { return i.EN }

// loadStartConfig loads the config as config.Load does, then finish (the
// flags, then Validate) runs on it; but what a person can fix in the
// window or a file does not stop tiepdon:
//   - an unreadable gateway.password_file: loaded without the password, so
//     the gateway is "not configured" until the file or the window's
//     Settings give one;
//   - a user settings file (file, TIEPDON_CONFIG or the per-user file) that
//     does not load or is not valid: loaded without it, on the machine
//     config.
//
// An error left (the machine config, a flag) is one tiepdon cannot run with.
func loadStartConfig(file string, getenv func(string) string, finish func(*config.Config) error) (config.Config, []setupIssue, error) {
	cfg, pwErr, err := loadTry(file, getenv, finish)
	var issues []setupIssue
	if err != nil {
		user := file
		if user == "" {
			user = getenv("TIEPDON_CONFIG")
		}
		if user == "" {
			user = config.UserConfigFile()
		}
		if _, serr := os.Stat(user); serr == nil {
			if none, terr := os.CreateTemp("", "tiepdon-no-user-config-*.toml"); terr == nil {
				none.Close()
				defer os.Remove(none.Name())
				noUser := func(k string) string {
					if k == "TIEPDON_CONFIG" {
						return ""
					}
					return getenv(k)
				}
				if cfg2, pwErr2, err2 := loadTry(none.Name(), noUser, finish); err2 == nil {
					cfg2.Files = slices.DeleteFunc(cfg2.Files, func(f string) bool { return f == none.Name() })
					issues = append(issues, setupIssue{
						EN: fmt.Sprintf("the settings in %s are not used: %v. Correct or delete that file (docs/configuration.md lists every key); tiepdon runs on the machine settings meanwhile", user, err),
						VI: fmt.Sprintf("thiết lập trong %s không được dùng: %v. Sửa hoặc xoá tệp đó (docs/configuration.md liệt kê mọi khoá); trong lúc đó tiepdon chạy theo thiết lập của máy", user, err),
					})
					cfg, pwErr, err = cfg2, pwErr2, nil
				}
			}
		}
	}
	if err != nil {
		return cfg, nil, err
	}
	if pwErr != nil {
		issues = append(issues, setupIssue{
			EN: fmt.Sprintf("the gateway password file %s cannot be read (%v): checks cannot reach the BHXH gateway. Let the reception accounts read the file, or enter the password in Settings (IT PIN)", cfg.Gateway.PasswordFile, pwErr),
			VI: fmt.Sprintf("không đọc được tệp mật khẩu cổng BHXH %s (%v): chưa tra cứu được với cổng BHXH. Cấp quyền đọc tệp cho tài khoản tiếp đón, hoặc nhập mật khẩu trong Cài đặt (mã PIN của IT)", cfg.Gateway.PasswordFile, pwErr),
		})
	}
	return cfg, issues, nil
}

// passwordPlaceholder stands in for the gateway password while loading
// again without reading the password file.
const passwordPlaceholder = "\x00tiepdon: password file not read"

// loadTry loads and finishes the config; if that fails only because the
// gateway password file cannot be read, it returns the config without a
// password and that error as pwErr.
func loadTry(file string, getenv func(string) string, finish func(*config.Config) error) (cfg config.Config, pwErr, err error) {
	cfg, err = config.Load(file, getenv)
	if err != nil && getenv("TIEPDON_GATEWAY_PASSWORD") == "" {
		withPw := func(k string) string {
			if k == "TIEPDON_GATEWAY_PASSWORD" {
				return passwordPlaceholder
			}
			return getenv(k)
		}
		if cfg2, err2 := config.Load(file, withPw); err2 == nil && cfg2.Gateway.PasswordFile != "" {
			// The password file was the only problem.
			cfg2.Gateway.Password = ""
			cfg, pwErr, err = cfg2, err, nil
		}
	}
	if err == nil {
		err = finish(&cfg)
	}
	return cfg, pwErr, err
}
