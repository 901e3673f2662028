#!/usr/bin/env bash
# Package tests (`make package-test`): builds every installer with a throwaway
# code-signing certificate, then checks
#   Windows: the MSI's tables (files, directories, shortcut, custom actions and their
#            sequence, upgrade rows, properties), both binaries' PE subsystem and imports,
#            the Authenticode signatures of the exe, the com and the MSI, and that a newer
#            build keeps the UpgradeCode (major upgrade) with a new ProductCode;
#   Linux:   the .deb and .rpm metadata, that every library the binary links is a
#            dependency, the desktop entries, then installs the .deb with dpkg -i on this
#            machine, runs `tiepdon version` and `tiepdon doctor`, removes it (conffile kept)
#            and purges it (nothing left);
#   dist/SHA256SUMS.
#
#   packaging/test.sh [all|windows|linux]     (default all)
#
# Runs as root (dpkg -i). SKIP_BUILD=1 reuses what is in $DIST.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH LANG=${LANG:-en_US.UTF-8}
what=${1:-all}
DIST=${DIST:-dist}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
export DIST VERSION

pass=0
fails=()
ok() { pass=$((pass + 1)); echo "  ok   $1"; }
bad() { fails+=("$1"); echo "  FAIL $1" >&2; }
check() { # check DESC CMD...: CMD must succeed
  local d=$1; shift
  if "$@" >/dev/null 2>&1; then ok "$d"; else bad "$d"; fi
}
has() { # has DESC HAYSTACK NEEDLE...: every needle is in the haystack
  local d=$1 hay=$2; shift 2
  local n
  for n in "$@"; do
    if ! grep -qF -- "$n" <<<"$hay"; then bad "$d: lacks '$n'"; return; fi
  done
  ok "$d"
}
lacks() { # lacks DESC HAYSTACK NEEDLE
  if grep -qF -- "$3" <<<"$2"; then bad "$1: has '$3'"; else ok "$1"; fi
}
table() { msiinfo export "$1" "$2" | tr -d '\r'; } # table MSI NAME: tab-separated rows, no CRs
field() { awk -F'\t' -v k="$2" '$1==k{print $'"$3"'}' <<<"$1"; } # field TABLE KEY COLUMN

need=(dpkg-deb rpm desktop-file-validate objdump)
[ "$what" = linux ] || need+=(wixl msiinfo msiextract msibuild osslsigncode openssl x86_64-w64-mingw32-objdump)
for c in "${need[@]}"; do
  command -v "$c" >/dev/null || { echo "package-test: $c is missing: make deps DEPS='build cross package'" >&2; exit 1; }
done

t0=$SECONDS
if [ "${SKIP_BUILD:-}" != 1 ]; then
  rm -f "$DIST"/*.msi "$DIST"/*.deb "$DIST"/*.rpm "$DIST"/SHA256SUMS
  env -u SIGN_PKCS12 -u SIGN_PASSWORD -u SIGN_PASSWORD_FILE -u SIGN_TSA_URL SIGN_TEST_CERT=1 bash packaging/package.sh "$what"
fi
build_s=$((SECONDS - t0))

msi=$(ls -t "$DIST"/tiepdon_*_windows_amd64.msi 2>/dev/null | head -1 || true)
deb=$(ls -t "$DIST"/tiepdon_*_amd64.deb 2>/dev/null | head -1 || true)
rpmf=$(ls -t "$DIST"/tiepdon-*.x86_64.rpm 2>/dev/null | head -1 || true)
cert=$DIST/work/sign/test-codesign.crt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

test_windows() {
ver=${msi##*/tiepdon_}; ver=${ver%%_windows_amd64.msi}

echo "== Windows MSI: $msi ($(stat -c %s "$msi") bytes)"
sum=$(msiinfo suminfo "$msi")
has "summary: x64 package" "$sum" "Template: x64;1033"
tables=$(msiinfo tables "$msi")
has "tables" "$tables" File Component Directory Registry Shortcut CustomAction InstallExecuteSequence Upgrade Icon Property
props=$(table "$msi" Property)
[ "$(field "$props" UpgradeCode 2)" = "{6B0F2D1E-5C3A-4E8B-9A41-7D2C0E9F3B15}" ] && ok "UpgradeCode is the stable one" || bad "UpgradeCode changed: $(field "$props" UpgradeCode 2)"
[ "$(field "$props" ProductVersion 2)" = "$ver" ] && ok "ProductVersion $ver" || bad "ProductVersion $(field "$props" ProductVersion 2) != $ver"
[ "$(field "$props" ALLUSERS 2)" = 1 ] && ok "per-machine (ALLUSERS=1)" || bad "ALLUSERS is not 1"
[ -z "$(field "$props" AUTOSTART 2)" ] && ok "AUTOSTART has no default in the MSI (machine-config remembers it)" || bad "AUTOSTART default"
has "SecureCustomProperties" "$(field "$props" SecureCustomProperties 2)" WIX_UPGRADE_DETECTED GATEWAY_URL GATEWAY_USER FACILITY_CODE HIS_ORIGINS HIS_PORT LANGUAGE SCANNER_PORT AUTOSTART REMOVE_DATA
dirs=$(table "$msi" Directory)
[ "$(field "$dirs" INSTALLDIR 2)" = ProgramFiles64Folder ] && [ "$(field "$dirs" INSTALLDIR 3)" = tiepdon ] && ok "INSTALLDIR = Program Files\\tiepdon" || bad "INSTALLDIR: $(grep INSTALLDIR <<<"$dirs")"
files=$(table "$msi" File)
has "files" "$files" $'tiepdon.exe\tApp\ttiepdon.exe' $'tiepdon.com\tApp\ttiepdon.com'
comps=$(table "$msi" Component)
attr=$(awk -F'\t' '$1=="App"{print $4}' <<<"$comps")
(( (attr & 256) != 0 )) && ok "App component is 64-bit (attributes $attr)" || bad "App component attributes $attr"
sc=$(table "$msi" Shortcut)
has "Start-menu shortcut" "$sc" $'StartMenuShortcut\tProgramMenuFolder\ttiepdon\tStartMenu\t[INSTALLDIR]tiepdon.exe\trun'
reg=$(table "$msi" Registry)
has "registry: install dir and version" "$reg" $'Software\\tiepdon\tInstallDir\t[INSTALLDIR]' $'Software\\tiepdon\tVersion\t'"$ver"
ca=$(table "$msi" CustomAction)
# 3090 = 18 (exe from the File table) + 1024 (deferred) + 2048 (no impersonation: SYSTEM);
# 3154 = the same + 64 (ignore the exit code).
[ "$(field "$ca" WriteMachineConfig 2)" = 3090 ] && ok "WriteMachineConfig: deferred, as SYSTEM, checked" || bad "WriteMachineConfig type $(field "$ca" WriteMachineConfig 2)"
[ "$(field "$ca" WriteMachineConfig 3)" = tiepdon.exe ] && ok "WriteMachineConfig runs the installed tiepdon.exe" || bad "WriteMachineConfig source"
has "WriteMachineConfig passes every property" "$(field "$ca" WriteMachineConfig 4)" 'machine-config ' \
  '"GATEWAY_URL=[GATEWAY_URL]"' '"GATEWAY_USER=[GATEWAY_USER]"' '"FACILITY_CODE=[FACILITY_CODE]"' '"HIS_ORIGINS=[HIS_ORIGINS]"' \
  '"HIS_PORT=[HIS_PORT]"' '"LANGUAGE=[LANGUAGE]"' '"SCANNER_PORT=[SCANNER_PORT]"' '"AUTOSTART=[AUTOSTART]"'
[ "$(field "$ca" PurgeData 2)" = 3154 ] && [ "$(field "$ca" PurgeData 4)" = "purge-data --yes" ] && ok "PurgeData custom action" || bad "PurgeData: $(grep PurgeData <<<"$ca")"
[ "$(field "$ca" RemoveAutostart 4)" = "machine-config --uninstall" ] && ok "RemoveAutostart custom action" || bad "RemoveAutostart"
seq=$(table "$msi" InstallExecuteSequence)
s() { field "$seq" "$1" 3; }
(( $(s InstallValidate) < $(s RemoveExistingProducts) && $(s RemoveExistingProducts) < $(s InstallInitialize) )) \
  && ok "major upgrade removes the old version first (RemoveExistingProducts $(s RemoveExistingProducts))" || bad "RemoveExistingProducts at $(s RemoveExistingProducts)"
(( $(s ValidateProperties) < $(s RemoveExistingProducts) )) && [ "$(field "$ca" ValidateProperties 2)" = 2 ] && [ "$(field "$ca" ValidateProperties 3)" = validate.exe ] \
  && ok "properties checked (ValidateProperties, from the Binary table) before the old version is removed" || bad "ValidateProperties: $(grep ValidateProperties <<<"$ca$seq")"
(( $(s ValidateProperties) < $(s CloseAgents) && $(s CloseAgents) < $(s RemoveExistingProducts) )) && [ "$(field "$ca" CloseAgents 2)" = 66 ] \
  && has "running agents closed once the properties are accepted, before anything is removed (CloseAgents)" "$(field "$ca" CloseAgents 4)" 'close-agents "[INSTALLDIR]." "[REMOVE]"' \
  || bad "CloseAgents: $(grep CloseAgents <<<"$ca$seq")"
(( $(s RestartAgents) > $(s InstallFinalize) )) && [ "$(field "$ca" RestartAgents 2)" = 66 ] && [ "$(field "$seq" RestartAgents 2)" = 'NOT (REMOVE="ALL")' ] \
  && ok "closed agents started again after InstallFinalize, not on uninstall (RestartAgents)" || bad "RestartAgents: $(grep RestartAgents <<<"$ca$seq")"
(( $(s InstallFiles) < $(s WriteMachineConfig) && $(s WriteMachineConfig) < $(s InstallFinalize) )) \
  && ok "config written after InstallFiles, inside the script" || bad "WriteMachineConfig at $(s WriteMachineConfig)"
[ "$(field "$seq" WriteMachineConfig 2)" = 'NOT (REMOVE="ALL")' ] && ok "config not written on uninstall" || bad "WriteMachineConfig condition"
for a in RemoveAutostart PurgeData; do
  (( $(s InstallInitialize) < $(s $a) && $(s $a) < $(s RemoveFiles) )) && ok "$a inside the script, before RemoveFiles" || bad "$a at $(s $a)"
done
[ "$(field "$seq" PurgeData 2)" = 'REMOVE="ALL" AND REMOVE_DATA="1" AND NOT UPGRADINGPRODUCTCODE' ] \
  && ok "data removed only on uninstall with REMOVE_DATA=1, never on upgrade" || bad "PurgeData condition: $(field "$seq" PurgeData 2)"
upg=$(table "$msi" Upgrade)
has "upgrade and downgrade detection" "$upg" WIX_UPGRADE_DETECTED WIX_DOWNGRADE_DETECTED "{6B0F2D1E-5C3A-4E8B-9A41-7D2C0E9F3B15}"
# Older versions and a rebuild of this one (VersionMax inclusive: 1 + 512) are replaced.
has "same-version rebuilds upgrade too" "$upg" $'\t'"$ver"$'\t\t513\t\tWIX_UPGRADE_DETECTED'

echo "== Windows binaries and signatures"
msiextract -C "$tmp/x" "$msi" >/dev/null
exe=$(find "$tmp/x" -name tiepdon.exe) com=$(find "$tmp/x" -name tiepdon.com)
[ -n "$exe" ] && [ -n "$com" ] && ok "msiextract: tiepdon.exe and tiepdon.com" || bad "msiextract found exe='$exe' com='$com'"
cmp -s "$exe" "$DIST/work/windows/tiepdon.exe" && ok "the MSI carries the signed exe" || bad "the MSI's exe differs from the signed one"
pe=$(x86_64-w64-mingw32-objdump -p "$exe")
has "tiepdon.exe is a GUI program" "$pe" "(Windows GUI)"
grep -a -q 'emrtd._Cfunc_opj_image_destroy' "$exe" && ok "tiepdon.exe decodes JPEG 2000 chip photos (OpenJPEG linked in)" || bad "tiepdon.exe was built without OpenJPEG (-tags openjp2)"
res=$(strings -e l "$exe" | grep -A1 -x -E 'ProductVersion|OriginalFilename' | tr '\n' ' ')
has "tiepdon.exe carries its version and name for Explorer and inventory tools" "$res" "ProductVersion $ver" "OriginalFilename tiepdon.exe"
# The static OpenJPEG the exe links decodes as Debian's does: the same small C
# program, built for both, on the test faces (the Windows one under Wine; Go
# 1.26 programs themselves need a newer Wine than Debian 12's).
ojp=$(bash packaging/windows/openjp2.sh)
wine=$(command -v wine64 || ls /usr/lib/wine/wine64 2>/dev/null || true)
gcc -O2 packaging/windows/openjp2-check.c $(pkg-config --cflags --libs libopenjp2) -o "$tmp/openjp2-check"
x86_64-w64-mingw32-gcc -O2 -DOPJ_STATIC -I"$ojp/include" packaging/windows/openjp2-check.c -L"$ojp/lib" -lopenjp2 \
  -o "$tmp/openjp2-check.exe"
for f in face.jp2:jp2 face.j2k:j2k; do
  img=drivers/emrtd/testdata/${f%%:*}
  lin=$("$tmp/openjp2-check" "$img" "${f##*:}" 2>&1 || true)
  win=$(WINEDEBUG=-all WINEPREFIX="$tmp/wine" "$wine" "$tmp/openjp2-check.exe" "$img" "${f##*:}" 2>/dev/null | tr -d '\r' || true)
  if [ -n "$lin" ] && [ "$lin" = "$win" ] && [[ $lin == *components=3* ]]; then
    ok "Windows OpenJPEG decodes ${f%%:*} as Linux does ($lin)"
  else
    bad "Windows OpenJPEG on ${f%%:*}: '$win', Linux: '$lin'"
  fi
done
has "tiepdon.com is a console program" "$(x86_64-w64-mingw32-objdump -p "$com")" "(Windows CUI)"
(( $(stat -c %s "$com") < 5000000 )) && ok "tiepdon.com is small ($(stat -c %s "$com") bytes)" || bad "tiepdon.com is $(stat -c %s "$com") bytes"
dlls=$(grep -i "DLL Name" <<<"$pe" | awk '{print tolower($3)}' | sort -u | tr '\n' ' ')
extra=$(tr ' ' '\n' <<<"$dlls" | grep -v -x -E 'kernel32.dll|user32.dll|gdi32.dll|shell32.dll|opengl32.dll|msvcrt.dll|advapi32.dll|ws2_32.dll|winmm.dll|ole32.dll|imm32.dll|setupapi.dll|cfgmgr32.dll|dwmapi.dll|ntdll.dll|' || true)
[ -z "$extra" ] && ok "imports only system DLLs ($dlls)" || bad "imports DLLs that Windows does not ship: $extra"
for f in "$exe" "$com" "$msi"; do
  v=$(osslsigncode verify -CAfile "$cert" -in "$f" 2>&1 || true)
  if grep -q "Signature verification: ok" <<<"$v"; then ok "signature of ${f##*/} verifies"; else bad "signature of ${f##*/}: $(tail -3 <<<"$v")"; fi
done
has "the MSI is signed by the test certificate" "$(osslsigncode verify -CAfile "$cert" -in "$msi" 2>&1 || true)" "tiepdon TEST code signing"
# A tampered MSI must fail verification (the check can fail).
# Invert one byte at a third, half and two thirds of the file (a fixed value
# may already be there, or land in an unused sector the signature does not
# cover; three inverted bytes in the cabinet stream cannot go unnoticed).
cp "$msi" "$tmp/tampered.msi"
size=$(stat -c %s "$msi")
for off in $(( size / 3 )) $(( size / 2 )) $(( size * 2 / 3 )); do
  b=$(od -An -tu1 -j "$off" -N1 "$msi" | tr -d ' ')
  printf "\\x$(printf %02x $(( 255 - b )))" | dd of="$tmp/tampered.msi" bs=1 seek="$off" conv=notrunc 2>/dev/null
done
cmp -s "$msi" "$tmp/tampered.msi" && bad "the tampered copy is unchanged"
if osslsigncode verify -CAfile "$cert" -in "$tmp/tampered.msi" 2>&1 | grep -q "Signature verification: ok"; then
  bad "a tampered MSI still verifies"
else ok "a tampered MSI fails verification"; fi

# A key in a token, through PKCS#11: SoftHSM stands in for the USB token or cloud HSM that
# public code-signing keys must live in; sign.sh is the same one a release runs.
hsm=$tmp/hsm
mkdir -p "$hsm/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$hsm/tokens" >"$hsm/softhsm2.conf"
export SOFTHSM2_CONF=$hsm/softhsm2.conf
module=$(ls /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so 2>/dev/null | head -1 || true)
openssl pkcs8 -topk8 -nocrypt -in "${cert%.crt}.key" -out "$hsm/key.p8"
if [ -n "$module" ] && softhsm2-util --init-token --free --label tiepdon-release --pin 4321 --so-pin 8765 >/dev/null &&
  softhsm2-util --import "$hsm/key.p8" --token tiepdon-release --label codesign --id 01 --pin 4321 >/dev/null &&
  printf '4321\n' >"$hsm/pin" &&
  SIGN_PKCS12= SIGN_PKCS11_MODULE=$module SIGN_PKCS11_KEY="pkcs11:token=tiepdon-release;object=codesign;type=private" \
    SIGN_CERTS=$cert SIGN_PIN_FILE=$hsm/pin bash packaging/windows/sign.sh "$DIST/work/windows/tiepdon.com" "$hsm/tiepdon.com" "tiepdon (console)"; then
  v=$(osslsigncode verify -CAfile "$cert" -in "$hsm/tiepdon.com" 2>&1 || true)
  if grep -q "Signature verification: ok" <<<"$v"; then ok "signing with a key in a PKCS#11 token (SoftHSM) verifies"
  else bad "PKCS#11 signature: $(tail -3 <<<"$v")"; fi
else
  bad "signing through PKCS#11 failed (module '$module')"
fi

echo "== Windows major upgrade: a newer build of the same source"
IFS=. read -r a b c <<<"$ver"
next="$a.$b.$((c + 1))"
(cd "$DIST/work/windows" && wixl -a x64 -D Version="$next" -D SourceDir=. -o "$tmp/next.msi" "$OLDPWD/packaging/windows/tiepdon.wxs")
bash packaging/windows/msi-fixup.sh "$tmp/next.msi"
p2=$(table "$tmp/next.msi" Property)
[ "$(field "$p2" UpgradeCode 2)" = "$(field "$props" UpgradeCode 2)" ] && ok "$next keeps the UpgradeCode" || bad "UpgradeCode differs between builds"
[ "$(field "$p2" ProductCode 2)" != "$(field "$props" ProductCode 2)" ] && ok "$next has a new ProductCode" || bad "ProductCode reused"
has "$next detects $ver as older" "$(table "$tmp/next.msi" Upgrade)" $'\t'"$next"$'\t\t1\t\tWIX_UPGRADE_DETECTED'

# The MSI itself under Wine's msiexec: install, upgrade to $next, uninstall.
if bash packaging/windows/winetest/msi.sh "$msi" "$tmp/next.msi"; then ok "the MSI installs, upgrades and uninstalls under Wine's msiexec"
else bad "the MSI under Wine's msiexec (packaging/windows/winetest/msi.sh)"; fi

}

test_linux() {
ver=${deb##*/tiepdon_}; ver=${ver%%-1_amd64.deb}
echo "== Linux packages: $deb ($(stat -c %s "$deb") bytes), $rpmf ($(stat -c %s "$rpmf") bytes)"
info=$(dpkg-deb -I "$deb")
has "deb control" "$info" "Package: tiepdon" "Version: $ver-1" "Architecture: amd64" "pcscd" "libpcsclite1" "libgl1-mesa-dri"
depends=$(dpkg-deb -f "$deb" Depends)
contents=$(dpkg-deb -c "$deb")
has "deb files" "$contents" ./usr/bin/tiepdon ./usr/share/applications/tiepdon.desktop ./etc/xdg/autostart/tiepdon.desktop \
  ./usr/lib/systemd/user/tiepdon.service ./etc/tiepdon/config.toml ./usr/share/icons/hicolor/256x256/apps/tiepdon.png
has "conffiles" "$(dpkg-deb -I "$deb" conffiles)" /etc/tiepdon/config.toml /etc/xdg/autostart/tiepdon.desktop
# Every shared library the binary links must come from a package in Depends.
dpkg-deb -x "$deb" "$tmp/deb"
for so in $(objdump -p "$tmp/deb/usr/bin/tiepdon" | awk '/NEEDED/{print $2}'); do
  pkg=$(dpkg -S "*/$so" 2>/dev/null | head -1 | cut -d: -f1)
  if [ -z "$pkg" ]; then bad "$so: no package on this machine provides it"; continue; fi
  if [ "$pkg" = libc6 ] || grep -qE "(^|, )$pkg(,|$| )" <<<"$depends"; then ok "$so comes from Depends ($pkg)"; else bad "$so comes from $pkg, which is not in Depends"; fi
done
check "desktop entries validate" desktop-file-validate "$tmp/deb/usr/share/applications/tiepdon.desktop" "$tmp/deb/etc/xdg/autostart/tiepdon.desktop"
has "systemd user unit runs headless" "$(cat "$tmp/deb/usr/lib/systemd/user/tiepdon.service")" "ExecStart=/usr/bin/tiepdon run --headless" "WantedBy=default.target"
cmp -s "$tmp/deb/etc/tiepdon/config.toml" agent/config/machine.toml && ok "conffile = agent/config/machine.toml" || bad "conffile differs"
keys=$(grep -v -E '^[[:space:]]*(#|$)' "$tmp/deb/etc/tiepdon/config.toml" || true)
[ -z "$keys" ] && ok "the conffile sets no key (new defaults never change it)" || bad "the conffile sets keys: $keys"
cmp -s "$tmp/deb/usr/share/doc/tiepdon/config.toml.example" agent/config/defaults.toml && ok "every key documented in config.toml.example (= agent/config/defaults.toml)" || bad "config.toml.example differs from the defaults"
rinfo=$(rpm -qpi "$rpmf" 2>/dev/null)
has "rpm header" "$rinfo" "Name        : tiepdon" "Version     : $ver"
has "rpm requires" "$(rpm -qpR "$rpmf" 2>/dev/null)" pcsc-lite pcsc-lite-libs libX11 openjpeg2
has "rpm config files" "$(rpm -qpc "$rpmf" 2>/dev/null)" /etc/tiepdon/config.toml /etc/xdg/autostart/tiepdon.desktop
has "rpm files" "$(rpm -qpl "$rpmf" 2>/dev/null)" /usr/bin/tiepdon /usr/lib/systemd/user/tiepdon.service

echo "== Linux install on this machine: dpkg -i, run, dpkg -r, dpkg -P"
if dpkg -s tiepdon >/dev/null 2>&1; then
  bad "tiepdon is already installed here: not touching it"
else
  if dpkg -i "$deb" >"$tmp/dpkg-i.log" 2>&1; then
    ok "dpkg -i"
    v=$(/usr/bin/tiepdon version 2>/dev/null)
    has "tiepdon version" "$v" "tiepdon $(cat "$DIST/work/version")" "linux/amd64"
    set +e
    HOME=$tmp/home XDG_DATA_HOME=$tmp/home/data /usr/bin/tiepdon doctor --lang en >"$tmp/doctor.txt" 2>"$tmp/doctor.err"
    rc=$?
    HOME=$tmp/home XDG_DATA_HOME=$tmp/home/data /usr/bin/tiepdon doctor --json >"$tmp/doctor.json" 2>/dev/null
    set -e
    d=$(cat "$tmp/doctor.txt")
    [ $rc -le 1 ] && ok "tiepdon doctor exits 0 or 1 (here $rc)" || bad "tiepdon doctor exit code $rc: $(cat "$tmp/doctor.err")"
    has "doctor explains every check" "$d" "] config " "] data-dir " "] his-port " "] pcsc-service " "] scanner " "] gateway " "/etc/tiepdon/config.toml"
    if grep -q '^\[FAIL\]' <<<"$d"; then
      [ $rc = 1 ] && ok "a FAIL line gives exit code 1" || bad "FAIL lines but exit code $rc"
      has "every FAIL has a fix" "$(grep -A1 '^\[FAIL\]' <<<"$d")" "→"
    else
      [ $rc = 0 ] && ok "no FAIL line, exit code 0" || bad "no FAIL line but exit code $rc"
    fi
    n=$(grep -c '"check":' "$tmp/doctor.json" || true)
    (( n >= 8 )) && ok "doctor --json lists $n checks" || bad "doctor --json lists $n checks"
    echo "---- tiepdon doctor on this machine:"; sed 's/^/    /' "$tmp/doctor.txt"
    # What IT does after installing: set the machine config with the MSI's property names.
    if /usr/bin/tiepdon machine-config FACILITY_CODE=79014 HIS_ORIGINS=https://his.benhvien.vn >/dev/null 2>&1; then
      has "machine-config edits /etc/tiepdon/config.toml" "$(cat /etc/tiepdon/config.toml)" 'code = "79014"' 'origins = ["https://his.benhvien.vn"]' "# tiepdon: machine-wide settings"
      has "machine-config logs to /etc/tiepdon/install.log" "$(cat /etc/tiepdon/install.log)" "machine-config: wrote /etc/tiepdon/config.toml (facility.code, his.origins)"
    else bad "tiepdon machine-config failed"; fi
    has "doctor sees the new config" "$(HOME=$tmp/home XDG_DATA_HOME=$tmp/home/data /usr/bin/tiepdon doctor --lang en 2>/dev/null || true)" "] config           Valid, read from /etc/tiepdon/config.toml." "] browser-policy"
    # An unattended upgrade to the next version keeps IT's edits and asks nothing (stdin closed).
    nd=$tmp/next-deb
    dpkg-deb -R "$deb" "$nd"
    sed -i "s/^Version: .*/Version: ${ver}.1-1/" "$nd/DEBIAN/control"
    dpkg-deb -b "$nd" "$tmp/next.deb" >/dev/null
    if dpkg -i "$tmp/next.deb" </dev/null >"$tmp/dpkg-up.log" 2>&1; then
      ok "upgrade to ${ver}.1 with dpkg -i, stdin closed"
    else bad "upgrade failed: $(tail -3 "$tmp/dpkg-up.log")"; fi
    grep -q 'code = "79014"' /etc/tiepdon/config.toml && ok "IT's edits kept by the upgrade" || bad "the upgrade lost /etc/tiepdon/config.toml's edits"
    dpkg -r tiepdon >/dev/null 2>&1 && ok "dpkg -r" || bad "dpkg -r"
    [ ! -e /usr/bin/tiepdon ] && ok "binary gone after dpkg -r" || bad "/usr/bin/tiepdon left after dpkg -r"
    grep -q 'code = "79014"' /etc/tiepdon/config.toml 2>/dev/null && ok "edited config kept after dpkg -r (conffile)" || bad "config lost by dpkg -r"
    dpkg -P tiepdon >/dev/null 2>&1 && ok "dpkg -P" || bad "dpkg -P"
    [ ! -e /etc/tiepdon ] && [ ! -e /etc/xdg/autostart/tiepdon.desktop ] && ok "nothing left after purge" || bad "left after purge: $(ls -d /etc/tiepdon /etc/xdg/autostart/tiepdon.desktop 2>/dev/null)"
  else
    bad "dpkg -i failed (missing dependencies? make deps DEPS='run package'): $(tail -5 "$tmp/dpkg-i.log")"
    dpkg -P tiepdon >/dev/null 2>&1 || true
  fi
fi

}

case $what in
  windows) [ -n "$msi" ] || { echo "no MSI in $DIST" >&2; exit 1; }; test_windows ;;
  linux) [ -n "$deb" ] && [ -n "$rpmf" ] || { echo "no .deb/.rpm in $DIST" >&2; exit 1; }; test_linux ;;
  all) [ -n "$msi" ] && [ -n "$deb" ] && [ -n "$rpmf" ] || { echo "packages missing in $DIST" >&2; exit 1; }
       test_windows; test_linux ;;
  *) echo "usage: $0 [all|windows|linux]" >&2; exit 2 ;;
esac

echo "== dist/SHA256SUMS"
(cd "$DIST" && sha256sum -c SHA256SUMS) >/dev/null 2>&1 && ok "sha256sum -c" || bad "SHA256SUMS does not match"
listed=()
for f in "$msi" "$deb" "$rpmf"; do [ -n "$f" ] && listed+=("${f##*/}"); done
has "SHA256SUMS lists the packages" "$(cat "$DIST/SHA256SUMS")" "${listed[@]}"

echo
echo "== package-test: $pass passed, ${#fails[@]} failed; build ${build_s}s, total $((SECONDS - t0))s"
for f in "$msi" "$deb" "$rpmf" "$DIST/work/windows/tiepdon.exe" "$DIST/work/linux/tiepdon"; do
  [ -n "$f" ] && [ -f "$f" ] && echo "   $(stat -c '%s' "$f") bytes  ${f##*/}"
done
if [ ${#fails[@]} -gt 0 ]; then
  printf '  FAIL %s\n' "${fails[@]}" >&2
  exit 1
fi
