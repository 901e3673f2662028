package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers/cccd"
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
	fs := newFlagSet("card", "card readers | card read --can DIGITS [--reader NAME] [--csca PATH] [--photo FILE]", stderr)
	can := fs.String("can", "", "last 6 digits of the citizen ID (or all 12)")
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
	key := *can
	if len(key) == 12 {
		key = key[6:]
	}
	if !cccd.ValidCAN(key) {
		fmt.Fprintln(stderr, "tiepdon card read: --can needs the last 6 digits of the citizen ID")
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
	src := &pcsc.ChipSource{Keys: pcsc.KeyFunc(func(context.Context, string) (emrtd.Key, error) {
		return emrtd.Key{CAN: key}, nil
	})}
	if *csca != "" {
		store, err := emrtd.LoadCSCAStore(*csca)
		if err != nil {
			fmt.Fprintf(stderr, "tiepdon card read: %v\n", err)
			return 1
		}
		src.CSCA = store
	}
	start := time.Now()
	id, err := src.ReadIdentity(ctx, *reader, "cli", nil)
	if err != nil {
		fmt.Fprintf(stderr, "tiepdon card read: %s\n", pcsc.FailureReason(err))
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
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.Encode(out)
	if id.Authenticity.Level == patient.Failed {
		return 3
	}
	return 0
}
