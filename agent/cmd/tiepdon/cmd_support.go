package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tiepdon/tiepdon/agent/doctor"
)

func init() {
	register(&command{
		name:    "support-bundle",
		summary: "write a zip of redacted logs, versions, settings and devices for a support ticket",
		run:     runSupportBundle,
	})
}

func runSupportBundle(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("support-bundle", "support-bundle [--config FILE] [-o FILE.zip]", stderr)
	file := fs.String("config", "", "config file to read instead of the per-user one")
	out := fs.String("o", "", "where to write the zip (default: tiepdon-support-<time>.zip in the current directory)")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	now := time.Now()
	if *out == "" {
		*out = fmt.Sprintf("tiepdon-support-%s.zip", now.Format("20060102-150405"))
	}
	cfg, cfgErr := loadForDiagnosis(*file)
	rep := doctor.Run(ctx, doctor.Options{Version: currentBuild().Version, Config: cfg, ConfigErr: cfgErr,
		ListReaders: listReaders, ListPorts: listPorts, HospitalKeys: doctorHospitalKeys})
	readers, readersErr := listReaders()
	ports, portsErr := listPorts()
	data := cfg.ResolvedDataDir()

	f, err := os.OpenFile(*out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintf(stderr, "tiepdon support-bundle: %v\n", err)
		return 1
	}
	err = doctor.WriteBundle(f, doctor.Bundle{
		Version: currentBuild(), Config: cfg, ConfigErr: cfgErr, Report: &rep,
		Readers: readers, ReadersErr: readersErr, Ports: ports, PortsErr: portsErr,
		LogDirs: []string{filepath.Join(data, "logs"), data},
		Environ: os.Environ(), Now: now,
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		fmt.Fprintf(stderr, "tiepdon support-bundle: %v\n", err)
		return 1
	}
	abs, _ := filepath.Abs(*out)
	fmt.Fprintf(stdout, "Wrote %s. Attach it to the support ticket; secrets and personal numbers are removed (see README.txt inside).\n", abs)
	fmt.Fprintf(stdout, "Đã ghi %s. Hãy đính kèm vào yêu cầu hỗ trợ; mật khẩu và số định danh đã được xoá (xem README.txt bên trong).\n", abs)
	return 0
}
