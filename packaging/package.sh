#!/usr/bin/env bash
# Builds tiepdon's installers into dist/ (the Makefile's package targets call it):
#
#   packaging/package.sh all       # both of the below, then dist/SHA256SUMS
#   packaging/package.sh windows   # tiepdon.exe cross-compiled with mingw-w64 + tiepdon.com, signed, MSI (wixl), signed
#   packaging/package.sh linux     # tiepdon for linux/amd64, .deb and .rpm (nfpm)
#
# Environment:
#   VERSION          version string baked into the binary (default: git describe)
#   DIST             output directory (default: dist)
#   SIGN_PKCS12, SIGN_PASSWORD[_FILE], SIGN_TSA_URL
#                    code-signing certificate for the exe and MSI (see windows/sign.sh)
#   SIGN_TEST_CERT=1 sign with a throwaway self-signed certificate made on the spot (tests)
#   REQUIRE_SIGNING=1  fail instead of building an unsigned MSI when no certificate is set (release)
#
# Needs: Go 1.26, gcc + the Fyne/X11/GL and libpcsclite headers (linux), gcc-mingw-w64-x86-64
# (windows), wixl + msitools + osslsigncode + openssl (MSI), network access to the Go module
# proxy for nfpm the first time. `make deps DEPS="build cross package"` installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=/usr/local/go/bin:$PATH
target=${1:-all}
DIST=${DIST:-dist}
WORK=$DIST/work
NFPM=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
PKG=./agent/cmd/tiepdon

VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
# Installers need a numeric x.y.z: a release tag gives it; other builds are
# 0.0.<commits on this branch>, which grows with every commit on main, so that
# each build upgrades the one before (MSI: major, minor < 256, build < 65536).
if [[ $VERSION =~ ^v?([0-9]+)\.([0-9]+)\.([0-9]+) ]]; then
  PKG_VERSION="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
else
  PKG_VERSION="0.0.$(git rev-list --count HEAD 2>/dev/null || echo 0)"
fi
export VERSION PKG_VERSION
mkdir -p "$DIST" "$WORK"
echo "$VERSION" > "$WORK/version" # what the binaries report, for test.sh

t0=$SECONDS
step() { echo "== package: $* ($((SECONDS - t0))s)"; }

build_linux() {
  step "building linux/amd64 binary (cold: ~4 min for Fyne's GL binding)"
  mkdir -p "$WORK/linux"
  CGO_ENABLED=1 GOOS=linux GOARCH=amd64 \
    go build -ldflags "-s -w -X main.version=$VERSION" -o "$WORK/linux/tiepdon" "$PKG"
}

package_linux() {
  build_linux
  # nfpm expands ${VAR} in some fields only (version, not contents): put the
  # binary's path into a copy of the config.
  sed "s|\${TIEPDON_BIN}|$WORK/linux/tiepdon|" packaging/linux/nfpm.yaml > "$WORK/nfpm.yaml"
  for p in deb rpm; do
    step "nfpm $p"
    go run "$NFPM" pkg --config "$WORK/nfpm.yaml" --packager "$p" --target "$DIST/"
  done
  ls -l "$DIST"/tiepdon_"$PKG_VERSION"-1_amd64.deb "$DIST"/tiepdon-"$PKG_VERSION"-1.x86_64.rpm
}

setup_signing() {
  if [ -n "${SIGN_PKCS12:-}" ] || [ -n "${SIGN_PKCS11_MODULE:-}" ]; then
    return 0
  fi
  if [ "${SIGN_TEST_CERT:-}" = 1 ]; then
    bash packaging/windows/test-cert.sh "$WORK/sign"
    export SIGN_PKCS12=$WORK/sign/test-codesign.p12 SIGN_PASSWORD=test
    echo "package: signing with a THROWAWAY test certificate ($WORK/sign/test-codesign.crt)"
    return 0
  fi
  if [ "${REQUIRE_SIGNING:-}" = 1 ]; then
    echo "package: REQUIRE_SIGNING=1 but neither SIGN_PKCS12 nor SIGN_PKCS11_MODULE is set" >&2
    exit 1
  fi
  echo "package: WARNING: no signing key (SIGN_PKCS12 or SIGN_PKCS11_MODULE): the exe and the MSI are NOT signed" >&2
  return 1
}

package_windows() {
  local w=$WORK/windows
  mkdir -p "$w"
  step "cross-compiling windows/amd64 with mingw-w64 (cold: ~6 min for Fyne's GL binding)"
  step "OpenJPEG for mingw-w64 from Debian's source (cold: ~30 s)"
  local ojp
  ojp=$(bash "$ROOT/packaging/windows/openjp2.sh")
  # Icon and version details for Explorer and inventory tools (no manifest: the
  # window's DPI handling stays GLFW's). The .syso lives only for this build.
  step "Windows resources: icon and version $PKG_VERSION"
  local syso=$ROOT/${PKG#./}/rsrc_windows_amd64.syso
  (cd "$ROOT/${PKG#./}" && go run github.com/tc-hib/go-winres@v0.3.3 simply --arch amd64 --out rsrc \
    --manifest none --icon "$ROOT/packaging/icons/tiepdon.ico" \
    --product-name tiepdon --file-description "tiepdon: health-insurance check at the reception desk" \
    --product-version "$PKG_VERSION" --file-version "$PKG_VERSION" --original-filename tiepdon.exe \
    --copyright "tiepdon contributors")
  local env=(CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc PKG_CONFIG_LIBDIR="$ojp")
  env "${env[@]}" go build -tags openjp2 -ldflags "-s -w -H=windowsgui -X main.version=$VERSION" -o "$w/tiepdon.exe" "$PKG" ||
    { rm -f "$syso"; return 1; }
  rm -f "$syso"
  # tiepdon.com: a small console program that runs tiepdon.exe and relays its output, so
  # that "tiepdon doctor" typed in cmd/PowerShell prints and waits (packaging/windows/console).
  CGO_ENABLED=0 GOOS=windows GOARCH=amd64 go build -ldflags "-s -w" -o "$w/tiepdon.com" ./packaging/windows/console
  # validate.exe: checks the MSI's properties before anything is removed (packaging/windows/validate);
  # it lives in the MSI's Binary table only.
  CGO_ENABLED=0 GOOS=windows GOARCH=amd64 go build -ldflags "-s -w" -o "$w/validate.exe" ./packaging/windows/validate
  local signed=0
  if setup_signing; then
    signed=1
    step "signing tiepdon.exe and tiepdon.com"
    bash packaging/windows/sign.sh "$w/tiepdon.exe" "$w/tiepdon.signed.exe" "tiepdon"
    bash packaging/windows/sign.sh "$w/tiepdon.com" "$w/tiepdon.signed.com" "tiepdon (console)"
    mv "$w/tiepdon.signed.exe" "$w/tiepdon.exe"
    mv "$w/tiepdon.signed.com" "$w/tiepdon.com"
    bash packaging/windows/sign.sh "$w/validate.exe" "$w/validate.signed.exe" "tiepdon (install check)"
    mv "$w/validate.signed.exe" "$w/validate.exe"
  fi
  cp packaging/icons/tiepdon.ico "$w/tiepdon.ico"
  step "wixl"
  local msi=$DIST/tiepdon_${PKG_VERSION}_windows_amd64.msi
  rm -f "$w/tiepdon.msi"
  # wixl only finds sources by paths relative to its working directory.
  (cd "$w" && wixl -a x64 -D Version="$PKG_VERSION" -D SourceDir=. -o tiepdon.msi "$ROOT/packaging/windows/tiepdon.wxs")
  bash "$ROOT/packaging/windows/msi-fixup.sh" "$w/tiepdon.msi"
  # wixl writes SecureCustomProperties itself (for the upgrade detection) and
  # refuses a second row: add ours to it, so that the properties also reach
  # the install when msiexec was started by a non-administrator and elevated.
  local secure
  secure=$(msiinfo export "$w/tiepdon.msi" Property | tr -d '\r' | awk -F'\t' '$1=="SecureCustomProperties"{print $2}')
  msibuild "$w/tiepdon.msi" -q "UPDATE \`Property\` SET \`Value\` = '$secure;GATEWAY_URL;GATEWAY_USER;FACILITY_CODE;HIS_ORIGINS;HIS_PORT;LANGUAGE;SCANNER_PORT;AUTOSTART;REMOVE_DATA' WHERE \`Property\` = 'SecureCustomProperties'"
  # And, like WiX's AllowSameVersionUpgrades, let a rebuild of the same version
  # replace the installed one instead of installing beside it (VersionMax inclusive, 0x200).
  # Attributes is part of the Upgrade table's key, so the table is exported, edited and imported.
  msiinfo export "$w/tiepdon.msi" Upgrade | tr -d '\r' |
    awk -F'\t' 'BEGIN{OFS="\t"} NR>3 && $7=="WIX_UPGRADE_DETECTED"{$5=513} {printf "%s\r\n", $0}' > "$w/Upgrade.idt"
  (cd "$w" && msibuild tiepdon.msi -i Upgrade.idt)
  if [ $signed = 1 ]; then
    step "signing the MSI"
    bash packaging/windows/sign.sh "$w/tiepdon.msi" "$msi" "tiepdon installer"
  else
    cp "$w/tiepdon.msi" "$msi"
  fi
  ls -l "$msi"
}

sums() {
  (cd "$DIST" && find . -maxdepth 1 -type f \( -name '*.msi' -o -name '*.deb' -o -name '*.rpm' \) -printf '%f\n' |
    sort | xargs -r sha256sum > SHA256SUMS)
  step "dist/SHA256SUMS"
  cat "$DIST/SHA256SUMS"
}

case $target in
  linux) package_linux ;;
  windows) package_windows ;;
  all) package_linux; package_windows ;;
  *) echo "usage: $0 all|windows|linux" >&2; exit 2 ;;
esac
sums
step "done"
