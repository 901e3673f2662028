#!/usr/bin/env bash
# The Windows test lane (part of `make test`; alone: `make test-windows`): the
# test binaries of the packages with Windows-specific code, cross-built for
# windows/amd64 with mingw-w64 (cgo: SQLite) and run under Debian's Wine 8
# (`go test -exec wine-exec`), in a Wine prefix cached between runs (env.sh).
#
# Packages: those with Windows-specific code (the key store: the real Credential
# Manager calls, which Wine implements).
#
# Skipped under Wine, by name, with the reason (printed on every run):
declare -A skip=(
  [TestDemoPageInChromium]="drives Linux Chromium from the test binary; the Linux lane runs it"
  [TestForeignOriginInChromium]="drives Linux Chromium from the test binary; the Linux lane runs it"
  [TestImports]="runs the Go toolchain (go list), a Linux program; the rule is the same on every OS"
  [TestNPMPackage]="runs npm pack, a Linux program here; the package is the same on every OS"
)
# Inside the packages, t.Skip on GOOS=windows (listed in the output below):
# agent/doctor TestDataDirReadOnly (a directory's read-only attribute means
# nothing on Windows), TestScanner (needs a pseudo-terminal).
set -uo pipefail
cd "$(dirname "$0")/../../.."
. packaging/windows/winetest/env.sh || exit 1
pkgs=(./agent/config ./agent/install ./agent/doctor ./agent/keystore ./agent/hisapi ./drivers/serialqr ./sync/cache ./ui)
echo "== Windows lane: ${pkgs[*]} under $(wine64 --version) (prefix $WINEPREFIX)"
echo "   skipped under Wine:"
names=()
for n in "${!skip[@]}"; do echo "     $n: ${skip[$n]}"; names+=("$n"); done
pattern="^($(IFS='|'; echo "${names[*]}"))\$"
t0=$SECONDS
log=$(mktemp)
GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc \
  go test -count=1 -timeout 10m -overlay "$GO_OVERLAY" -exec "$PWD/packaging/windows/winetest/wine-exec" \
  -skip "$pattern" -v "$@" "${pkgs[@]}" >"$log" 2>&1
rc=$?
grep -E '^(ok|FAIL|---|panic)|^\s+--- (FAIL|SKIP)|^\s+\S+_test\.go:[0-9]+:' "$log" | grep -v -- '--- PASS' || true
echo "   skipped inside the packages on Windows:"
grep -E -- '--- SKIP' "$log" | sed 's/^ */     /' || true
wineserver -k 2>/dev/null || true
echo "== Windows lane: $([ $rc = 0 ] && echo passed || echo FAILED) in $((SECONDS - t0))s"
rm -f "$log"
exit $rc
