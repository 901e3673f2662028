package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers/cccd"
	"github.com/tiepdon/tiepdon/drivers/chip"
	"github.com/tiepdon/tiepdon/drivers/emrtd"
	"github.com/tiepdon/tiepdon/drivers/pcsc"
)

func init() {
	register(&command{
		name:    "card",
		summary: "card readers | card read --can DIGITS: list PC/SC readers, or read a chip CCCD once",
		run:     runCard,
	})
}

// cardRead is what "tiepdon card read" prints: the identity without the
// photo (its size and type instead), and how far it can be trusted.
type cardRead struct {
	Reader     string           `json:"reader"`
	Identity   patient.Identity `json:"identity"`
	PhotoBytes int              `json:"photoBytes"`
	Took       string           `json:"took"`
}

func runCard(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("card", "card readers | card read (--can 123456 | --id ID12 | --mrz DOC9,YYMMDD,YYMMDD) [--reader NAME] [--csca FILE|DIR] [--photo FILE] [--json]", stderr)
	can := fs.String("can", "", "last 6 digits of the citizen ID (PACE)")
	idFlag := fs.String("id", "", "the whole 12-digit citizen ID (PACE with its last 6 digits)")
	mrz := fs.String("mrz", "", "MRZ key for BAC: document number (last 9 digits of the ID), birth date and expiry date as YYMMDD, comma-separated")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	reader := fs.String("reader", "", "reader name (default: the first reader holding a card)")
	csca := fs.String("csca", "", "trusted CSCA certificates (file or folder) for passive authentication")
	photo := fs.String("photo", "", "write the chip's face image to this file")
	// The subcommand comes first, its flags after it.
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	switch sub {
	case "readers":
		names, err := pcsc.ListReaders()
		if err != nil {
			fmt.Fprintf(stderr, "tiepdon card readers: %v\n", err)
			return 1
		}
		withCard, _ := pcsc.ReadersWithCard()
		has := map[string]bool{}
		for _, n := range withCard {
			has[n] = true
		}
		for _, n := range names {
			state := "empty"
			if has[n] {
				state = "card present"
			}
			fmt.Fprintf(stdout, "%s\t%s\n", n, state)
		}
		if len(names) == 0 {
			fmt.Fprintln(stderr, "no PC/SC readers: plug one in, or check the PC/SC service (tiepdon doctor)")
			return 1
		}
		return 0
	case "read":
	default:
		fs.Usage()
		return 2
	}
	key, err := cardKey(*can, *idFlag, *mrz)
	if err != nil {
		fmt.Fprintf(stderr, "tiepdon card read: %v\n", err)
		return 2
	}
	if *reader == "" {
		withCard, err := pcsc.ReadersWithCard()
		if err != nil || len(withCard) == 0 {
			fmt.Fprintf(stderr, "tiepdon card read: no reader holds a card (%v)\n", err)
			return 1
		}
		*reader = withCard[0]
	}
	src := &chip.Source{}
	// Trusted CSCAs: the flag, else TIEPDON_CSCA, else the config's
	// reader.csca and those installed with "tiepdon csca import".
	var paths []string
	switch {
	case *csca != "":
		paths = []string{*csca}
	case os.Getenv("TIEPDON_CSCA") != "":
		paths = filepath.SplitList(os.Getenv("TIEPDON_CSCA"))
	default:
		if cfg, err := config.Load("", os.Getenv); err == nil {
			paths = cscaPaths(cfg, "")
		}
	}
	if len(paths) > 0 {
		store, err := emrtd.LoadCSCAStore(paths...)
		if err != nil {
			fmt.Fprintf(stderr, "tiepdon card read: %v\n", err)
			return 1
		}
		src.CSCA = store
	}
	start := time.Now()
	id, err := src.ReadWithKey(ctx, *reader, "cli", key, nil)
	if err != nil {
		fmt.Fprintf(stderr, "tiepdon card read: %s (%s)\n", chip.FailureDetail(err), chip.FailureCode(err))
		return 1
	}
	out := cardRead{Reader: *reader, Identity: id, Took: time.Since(start).Round(time.Millisecond).String()}
	if id.Chip != nil {
		out.PhotoBytes = len(id.Chip.Photo)
		if *photo != "" && len(id.Chip.Photo) > 0 {
			if err := os.WriteFile(*photo, id.Chip.Photo, 0o600); err != nil {
				fmt.Fprintf(stderr, "tiepdon card read: %v\n", err)
				return 1
			}
		}
	}
	if *asJSON {
		writeJSON(stdout, out)
	} else {
		fmt.Fprintf(stdout, "reader:       %s (read in %s)\n", out.Reader, out.Took)
		fmt.Fprintf(stdout, "citizen ID:   %s\n", id.CitizenID.Masked())
		fmt.Fprintf(stdout, "name:         %s\n", id.Name)
		fmt.Fprintf(stdout, "birth date:   %s\n", id.BirthDate)
		fmt.Fprintf(stdout, "authenticity: %s %s\n", id.Authenticity.Level, id.Authenticity.Clone)
		if id.Authenticity.Detail != "" {
			fmt.Fprintf(stdout, "              %s\n", id.Authenticity.Detail)
		}
		fmt.Fprintf(stdout, "photo:        %d bytes\n", out.PhotoBytes)
	}
	if id.Authenticity.Level == patient.Failed {
		return 3
	}
	return 0
}

// cardKey builds the chip key from exactly one of --can, --id and --mrz.
func cardKey(can, id, mrz string) (emrtd.Key, error) {
	n := 0
	for _, v := range []string{can, id, mrz} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return emrtd.Key{}, fmt.Errorf("give exactly one of --can, --id and --mrz")
	}
	switch {
	case can != "":
		if !cccd.ValidCAN(can) {
			return emrtd.Key{}, fmt.Errorf("--can needs the last 6 digits of the citizen ID")
		}
		return emrtd.Key{CAN: can}, nil
	case id != "":
		k, err := cccd.KeysFromID(patient.CitizenID(id))
		if err != nil {
			return emrtd.Key{}, fmt.Errorf("--id: %w", err)
		}
		return chip.EMRTDKey(k), nil
	}
	parts := strings.Split(mrz, ",")
	if len(parts) != 3 || len(parts[0]) != 9 || !yymmdd(parts[1]) || !yymmdd(parts[2]) {
		return emrtd.Key{}, fmt.Errorf("--mrz wants DOC9,YYMMDD,YYMMDD (document number, birth date, expiry date)")
	}
	return emrtd.Key{DocumentNumber: parts[0], BirthDate: parts[1], ExpiryDate: parts[2]}, nil
}

func yymmdd(s string) bool {
	if len(s) != 6 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
