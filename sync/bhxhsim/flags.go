package bhxhsim

import (
	"flag"
	"time"
)

// RegisterFlags binds o's settings to flags on fs, for `tiepdon sim`:
//
//	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
//	var o bhxhsim.Options
//	o.RegisterFlags(fs)
//	fs.Parse(args)
//	addr, err := bhxhsim.New(o).Serve(ctx, *listen)
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.Int64Var(&o.Seed, "seed", o.Seed, "seed of the synthetic population")
	fs.IntVar(&o.Size, "size", 100_000, "number of people (at most 1,000,000)")
	fs.StringVar(&o.Username, "username", o.Username, "accept only this username (empty: any)")
	fs.StringVar(&o.Password, "password", "bhxh-sim", "the account password (clients send its MD5)")
	fs.StringVar(&o.MD5Case, "md5-case", o.MD5Case, `password MD5 case accepted: "upper", "lower" or "" for either`)
	fs.StringVar(&o.Encoding, "encoding", o.Encoding, `body encoding accepted: "form", "json" or "" for either`)
	fs.DurationVar(&o.TokenTTL, "token-ttl", 10*time.Minute, "token lifetime")
	fs.BoolVar(&o.ExpiresInSeconds, "expires-in-seconds", o.ExpiresInSeconds, "send expires_in as seconds instead of an ISO time")
	fs.BoolVar(&o.RejectYearOnly, "reject-year-only", o.RejectYearOnly, "answer 205 to ngaySinh given as yyyy")
	fs.BoolVar(&o.RejectCitizenID, "reject-cccd", o.RejectCitizenID, "answer 051 to a 12-digit CCCD sent as maThe")
	fs.StringVar(&o.UnregisteredStaff, "unregistered-staff", "000000000000", "staff CCCD answered with 054")
	fs.StringVar(&o.MismatchedStaff, "mismatched-staff", o.MismatchedStaff, "staff CCCD answered with 055")
	fs.Func("latency", "added latency per answer (e.g. 800ms)", func(s string) error {
		d, err := time.ParseDuration(s)
		o.Faults.Latency = Duration(d)
		return err
	})
	fs.Float64Var(&o.Faults.Error5xx, "error5xx", 0, "share of requests answered 503 (0..1)")
	fs.Float64Var(&o.Faults.Timeout, "timeouts", 0, "share of requests never answered (0..1)")
	fs.Float64Var(&o.Faults.Garbage, "garbage", 0, "share of requests answered with broken JSON (0..1)")
	fs.Float64Var(&o.Faults.Reset, "resets", 0, "share of connections reset (0..1)")
	fs.BoolVar(&o.Faults.Down, "down", false, "reset every connection: the gateway is unreachable")
	fs.BoolVar(&o.Faults.Storm401, "storm401", false, "answer 401 to every /api/egw call")
	fs.StringVar(&o.Faults.Code, "code", "", "answer every card check with this maKetQua")
	fs.BoolVar(&o.Blanks, "blanks", o.Blanks, `send " " for absent text fields and null for empty lists, as the live gateway does`)
	fs.BoolVar(&o.Faults.Token501, "token501", false, `answer every /api/egw call with code 501 "Token không đúng"`)
	fs.StringVar(&o.Faults.LoginCode, "login-code", "", `answer every login with this maKetQua ("402": the account is refused)`)
}
