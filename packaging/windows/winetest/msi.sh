#!/usr/bin/env bash
# The MSI under Wine's msiexec (run by packaging/test.sh): a silent install
# with every public property, then what it left (files, the machine config
# in %ProgramData%, the HKLM Run entry, the uninstall entry), the installed
# tiepdon.com answering, the installed tiepdon.exe started as its Start-menu
# shortcut does (demo mode, its window on Xvfb): /healthz, a HIS app's
# WebSocket getting a demo scan's verdict, the verdict in the window; and a
# silent uninstall that keeps the config.
#
#   [SCREENSHOT=out.png] packaging/windows/winetest/msi.sh dist/tiepdon_X.Y.Z_windows_amd64.msi [NEXT.msi]
#
# SCREENSHOT saves the window with the verdict (make screenshots-windows).
#
# With NEXT (a newer build of the same source), also: install with
# AUTOSTART=0, a major upgrade to NEXT without properties keeps the config and
# AUTOSTART=0, a running agent closed and started again by the upgrade, and an
# uninstall with REMOVE_DATA=1 removes the program, %ProgramData%\tiepdon, every
# user's data and a data_dir set in the machine config, and nothing else.
#
# It uses a throwaway Wine prefix (the test lane's cached one stays clean).
set -uo pipefail
msi=$(realpath "$1")
next=${2:+$(realpath "$2")}
cd "$(dirname "$0")/../../.."
. packaging/windows/winetest/env.sh || exit 1
base=$WINEPREFIX
tmp=$(mktemp -d)
export WINEPREFIX=$tmp/prefix
trap 'stop_agent 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fails=0
ok() { pass=$((pass + 1)); echo "  ok   $1"; }
bad() { fails=$((fails + 1)); echo "  FAIL $1" >&2; }
has() { if grep -qiF -- "$3" <<<"$2"; then ok "$1"; else bad "$1: lacks '$3'"; return 1; fi; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
go build -o "$tmp/hisclient" ./packaging/windows/winetest/hisclient || exit 1
agent="" xpid="" disp="" port=""
# start_agent GLX|NOGLX [ARGS]: a fresh Xvfb (NOGLX: without the GLX extension,
# like a PC without OpenGL 2.1), Wine restarted on it (Wine's desktop keeps the
# display of its first program), and the installed tiepdon.exe started as the
# Start-menu shortcut does ("tiepdon.exe run" in the install folder), in demo
# mode, with ARGS.
start_agent() {
  local ext=() n
  [ "$1" = NOGLX ] && ext=(-extension GLX)
  rm -f "$tmp/xready" && mkfifo "$tmp/xready"
  Xvfb -screen 0 1366x768x24 -nolisten tcp "${ext[@]}" -displayfd 3 3>"$tmp/xready" 2>"$tmp/xvfb.log" &
  xpid=$!
  read -r -t 20 n <"$tmp/xready" || { bad "Xvfb did not start: $(cat "$tmp/xvfb.log")"; return 1; }
  disp=:$n
  wineserver -k 2>/dev/null; wineserver -w
  port=$(freeport)
  (cd "$c/Program Files/tiepdon" && DISPLAY=$disp exec wine64 ./tiepdon.exe run --demo --his-addr "127.0.0.1:$port" "${@:2}" \
    </dev/null >"$tmp/agent.log" 2>&1) &
  agent=$!
}
stop_agent() {
  [ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
  wineserver -k 2>/dev/null; wineserver -w
  [ -n "$xpid" ] && kill "$xpid" 2>/dev/null && wait "$xpid" 2>/dev/null
  agent="" xpid=""
}
# healthz PATTERN TRIES: the agent's /healthz once it matches PATTERN (grep -E),
# or the last answer after TRIES × 0.1 s or once the agent (if a child) is gone.
healthz() {
  local h="" i
  for i in $(seq "$2"); do
    h=$(curl -fsS --max-time 5 "http://127.0.0.1:$port/healthz" 2>/dev/null || true)
    grep -qE -- "$1" <<<"$h" && break
    [ -z "$agent" ] || kill -0 "$agent" 2>/dev/null || break
    sleep 0.1
  done
  echo "$h"
}

echo "== MSI under Wine's msiexec: ${msi##*/}"
WINEDLLOVERRIDES="mscoree,mshtml=" wine64 wineboot -i </dev/null >/dev/null 2>&1
wineserver -w
cp "$base/drive_c/windows/system32/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
c=$WINEPREFIX/drive_c
props=(GATEWAY_URL=https://gw.example.vn GATEWAY_USER=79014_BV FACILITY_CODE=79014 HIS_ORIGINS=https://his.benhvien.vn
  HIS_PORT=8744 LANGUAGE=en SCANNER_PORT=COM3 AUTOSTART=1)
wine64 msiexec /i "$msi" /qn /l*v "$tmp/install.log" "${props[@]}" </dev/null >/dev/null 2>&1
rc=$?
[ $rc = 0 ] && ok "silent install with every public property (exit 0)" || bad "msiexec /i exit $rc: $(iconv -f utf-16 -t utf-8 "$tmp/install.log" 2>/dev/null | grep -i -m3 'error\|return value 3')"
for f in tiepdon.exe tiepdon.com; do
  [ -f "$c/Program Files/tiepdon/$f" ] && ok "Program Files\\tiepdon\\$f" || bad "no Program Files\\tiepdon\\$f"
done
cfg=$(cat "$c/ProgramData/tiepdon/config.toml" 2>/dev/null)
for v in https://gw.example.vn 79014_BV 79014 https://his.benhvien.vn 8744 '"en"' COM3; do
  has "%ProgramData%\\tiepdon\\config.toml has $v" "$cfg" "$v"
done
run=$(wine64 reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Run' </dev/null 2>/dev/null | tr -d '\r')
has "HKLM Run entry starts tiepdon (AUTOSTART=1)" "$run" 'tiepdon.exe'
arp=$(wine64 reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s </dev/null 2>/dev/null | tr -d '\r')
has "uninstall entry (Programs and Features)" "$arp" 'DisplayName    REG_SZ    tiepdon'
ver=$(wine64 "$c/Program Files/tiepdon/tiepdon.com" version </dev/null 2>/dev/null | tr -d '\r')
has "the installed tiepdon.com answers 'version'" "$ver" "tiepdon"
# The installed program as its Start-menu shortcut starts it ("tiepdon.exe run"
# in the install folder), in demo mode (gateway simulator; Wine has no ptys, so
# demo scans skip the serial port), with its window on an X display: Xvfb with
# GLX, where Wine's OpenGL is Mesa's. A HIS app paired with the installed
# tiepdon.com (pairing add) gets the verdict of a scan asked with "tiepdon.com
# demo scan" over the WebSocket, the window paints it, and the SQLite cache on
# Windows keeps it.
demo="$(wine64 cmd /c 'echo %LOCALAPPDATA%' </dev/null 2>/dev/null | tr -d '\r')\tiepdon\demo"
tok=$(wine64 "$c/Program Files/tiepdon/tiepdon.com" pairing add --data-dir "$demo" --name winetest --scopes eligibility </dev/null 2>"$tmp/pair.err" | tr -d '\r')
has "the installed tiepdon.com pairing add prints a token for a HIS app" "$tok" tdp_
start_agent GLX
h=$(healthz '"window":\{"state":"open"' 600)
has "the installed tiepdon.exe run (Start-menu command line): /healthz answers" "$h" '"apiLevel"'
has "its window opened under Xvfb (Wine's OpenGL through Mesa)" "$h" '"window":{"state":"open"}'
"$tmp/hisclient" -addr "127.0.0.1:$port" -token "$tok" -wait 60s >"$tmp/client.out" 2>&1 &
client=$!
for _ in $(seq 100); do grep -q '^ready' "$tmp/client.out" && break; kill -0 $client 2>/dev/null || break; sleep 0.1; done
has "the HIS app says session.hello with its token (paired)" "$(cat "$tmp/client.out")" "ready paired=true"
has "tiepdon.com demo scan: the running agent takes the scan" \
  "$(DISPLAY=$disp wine64 "$c/Program Files/tiepdon/tiepdon.com" demo scan --code 000 </dev/null 2>&1 | tr -d '\r')" "Scanned"
wait $client
has "the HIS app gets the scan's verdict over the WebSocket" "$(cat "$tmp/client.out")" "verdict=eligible code=000 source=live"
h=$(healthz '"ageSeconds":[0-9]' 100)
has "the demo scan's answer is kept in the SQLite cache on Windows" "$h" '"ageSeconds":'
# The window paints the verdict: the eligible banner's green (ui/verdict.go colGreen).
green=0
for _ in $(seq 50); do
  DISPLAY=$disp import -window root "$tmp/window.png" 2>/dev/null &&
    green=$(convert "$tmp/window.png" -fill black +opaque '#156B34' -fill white -opaque '#156B34' -format '%[fx:int(mean*w*h)]' info: 2>/dev/null || echo 0)
  (( green > 50000 )) && break
  sleep 0.2
done
(( green > 50000 )) && ok "the window shows the green eligible banner ($green px)" || bad "the window does not show the verdict ($green green px)"
if [ -n "${SCREENSHOT:-}" ]; then
  convert "$tmp/window.png" -trim +repage "$SCREENSHOT" && echo "  wrote $SCREENSHOT"
fi
stop_agent
# A machine config tiepdon cannot run with: the windowed tiepdon.exe has no
# console, so it shows a message box (found on the X display, then closed
# with Enter) and writes the reason to %ProgramData%\tiepdon\start-error.log.
cp "$c/ProgramData/tiepdon/config.toml" "$tmp/config.saved"
{ echo "langauge = 'en'"; cat "$tmp/config.saved"; } >"$c/ProgramData/tiepdon/config.toml"
start_agent GLX
box=""
for _ in $(seq 300); do
  box=$(DISPLAY=$disp xdotool search --name '^tiepdon$' 2>/dev/null | head -1)
  [ -n "$box" ] && break
  kill -0 "$agent" 2>/dev/null || break
  sleep 0.1
done
[ -n "$box" ] && ok "a config tiepdon cannot run with: a message box titled tiepdon" || bad "no message box for the config error"
[ -n "$box" ] && DISPLAY=$disp xdotool key --window "$box" Return
for _ in $(seq 100); do kill -0 "$agent" 2>/dev/null || break; sleep 0.1; done
wait "$agent"; rc=$?
[ $rc = 2 ] && ok "… tiepdon.exe exits 2 once it is read" || bad "tiepdon.exe with a bad config: exit $rc, $(tail -3 "$tmp/agent.log")"
agent=""
has "… the reason is in %ProgramData%\\tiepdon\\start-error.log (English)" "$(cat "$c/ProgramData/tiepdon/start-error.log" 2>/dev/null)" \
  'tiepdon cannot start: its configuration has an error: config C:\ProgramData\tiepdon\config.toml: unknown key "langauge"'
has "… and in Vietnamese" "$(cat "$c/ProgramData/tiepdon/start-error.log" 2>/dev/null)" 'tiepdon không khởi động được vì cấu hình có lỗi'
stop_agent
cp "$tmp/config.saved" "$c/ProgramData/tiepdon/config.toml"
# No OpenGL 2.1, as over Remote Desktop or in a VM without a graphics driver:
# Xvfb without GLX leaves Wine's opengl32 nothing to draw with. The window
# cannot open; the agent keeps the HIS API, logs an ERROR in plain words,
# tells the desk (a message box) and shows the fix in /healthz and doctor.
# And a mistake in the user's settings file (%LocalAppData%\tiepdon\config.toml):
# tiepdon starts on the machine settings, needing setup, and says so.
lad=$(ls -d "$c"/users/*/AppData/Local | head -1)
mkdir -p "$lad/tiepdon" && echo "langauge = 'en'" >"$lad/tiepdon/config.toml"
start_agent NOGLX
h=$(healthz '"window":\{"state":"failed"' 600)
setupbox=""
for _ in $(seq 100); do setupbox=$(DISPLAY=$disp xdotool search --name 'needs setup' 2>/dev/null | head -1); [ -n "$setupbox" ] && break; sleep 0.1; done
[ -n "$setupbox" ] && ok "a broken user settings file: tiepdon starts anyway, a message box says it needs setup" || bad "no needs-setup message box"
has "… the log names the file" "$(cat "$tmp/agent.log")" 'tiepdon\\config.toml are not used'
has "… and the problem" "$(cat "$tmp/agent.log")" 'unknown key \"langauge\"'
rm -f "$lad/tiepdon/config.toml"
has "without OpenGL (Xvfb -extension GLX): /healthz shows the window failed" "$h" '"window":{"state":"failed"'
has "… with the fix" "$h" 'Update the graphics driver; over Remote Desktop, enable hardware OpenGL'
has "… and the agent logs an ERROR in plain words" "$(cat "$tmp/agent.log")" 'level=ERROR msg="The tiepdon window could not open, so reception staff see nothing on this PC; update the graphics driver'
box=""
for _ in $(seq 100); do box=$(DISPLAY=$disp xdotool search --name '^tiepdon$' 2>/dev/null | head -1); [ -n "$box" ] && break; sleep 0.1; done
[ -n "$box" ] && ok "… the person at the desk is told: a message box titled tiepdon" || bad "no message box for the failed window"
"$tmp/hisclient" -addr "127.0.0.1:$port" -token "$tok" -wait 60s >"$tmp/client.out" 2>&1 &
client=$!
for _ in $(seq 100); do grep -q '^ready' "$tmp/client.out" && break; kill -0 $client 2>/dev/null || break; sleep 0.1; done
DISPLAY=$disp wine64 "$c/Program Files/tiepdon/tiepdon.com" demo scan --code 000 </dev/null >/dev/null 2>&1
wait $client
has "… the HIS API keeps working without a window (a scan's verdict over the WebSocket)" "$(cat "$tmp/client.out")" "verdict=eligible code=000"
doc=$(TIEPDON_HIS_ADDR=127.0.0.1:$port DISPLAY=$disp wine64 "$c/Program Files/tiepdon/tiepdon.com" doctor --lang en </dev/null 2>/dev/null | tr -d '\r')
has "… tiepdon doctor: [FAIL] window" "$doc" '[FAIL] window'
has "… with the fix" "$(grep -A1 '\] window' <<<"$doc")" 'Update the graphics driver'
stop_agent
wine64 msiexec /x "$msi" /qn /l*v "$tmp/uninstall.log" </dev/null >/dev/null 2>&1
rc=$?
[ $rc = 0 ] && ok "silent uninstall (exit 0)" || bad "msiexec /x exit $rc"
[ ! -e "$c/Program Files/tiepdon/tiepdon.exe" ] && ok "uninstall removed the program" || bad "tiepdon.exe left after uninstall"
run=$(wine64 reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Run' </dev/null 2>/dev/null | tr -d '\r')
if grep -qi tiepdon <<<"$run"; then bad "the Run entry is left after uninstall"; else ok "uninstall removed the Run entry"; fi
[ -f "$c/ProgramData/tiepdon/config.toml" ] && ok "uninstall without REMOVE_DATA=1 keeps the machine config" || bad "the config was removed without REMOVE_DATA=1"
if [ -n "$next" ]; then
  echo "== upgrade to ${next##*/}"
  runkey() { wine64 reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Run' </dev/null 2>/dev/null | tr -d '\r'; }
  version() { wine64 reg query 'HKLM\Software\tiepdon' /v Version </dev/null 2>/dev/null | tr -d '\r' | awk '/Version/{print $3}'; }
  wine64 msiexec /i "$msi" /qn AUTOSTART=0 FACILITY_CODE=79015 </dev/null >/dev/null 2>&1 && ok "install with AUTOSTART=0" || bad "install with AUTOSTART=0"
  if grep -qi tiepdon <<<"$(runkey)"; then bad "AUTOSTART=0 still wrote the Run entry"; else ok "AUTOSTART=0: no Run entry"; fi
  old_v=$(version)
  # The installed agent runs (with its window) through both upgrades below.
  start_agent GLX
  has "before the upgrades: the installed agent runs with its window open" "$(healthz '"window":\{"state":"open"' 600)" '"window":{"state":"open"}'
  old_agent=$agent
  # A refused upgrade (a bad property) leaves the installed version as it was.
  # Wine keeps no event log: its ReportEventW only traces its arguments
  # (channel eventlog, which WINEDEBUG turns on here), and that is what is
  # checked below.
  WINEDEBUG=err+eventlog,fixme+advapi wine64 msiexec /i "$next" /qn /l*v "$tmp/refused.log" GATEWAY_URL=not-a-url </dev/null >/dev/null 2>"$tmp/refused.err"
  rc=$?
  [ $rc != 0 ] && ok "an upgrade with GATEWAY_URL=not-a-url is refused (exit $rc)" || bad "an upgrade with a bad property succeeded"
  [ "$(version)" = "$old_v" ] && [ -f "$c/Program Files/tiepdon/tiepdon.exe" ] && ok "the refused upgrade left $old_v installed" ||
    bad "after the refused upgrade: version '$(version)', exe $(ls "$c/Program Files/tiepdon/" 2>&1)"
  has "the installed version still answers after the refused upgrade" \
    "$(wine64 "$c/Program Files/tiepdon/tiepdon.com" version </dev/null 2>/dev/null | tr -d '\r')" tiepdon
  has "the refused upgrade keeps the config" "$(cat "$c/ProgramData/tiepdon/config.toml" 2>/dev/null)" 79015
  reason=$(cat "$c/ProgramData/tiepdon-install.log" 2>/dev/null)
  has "the reason is in %ProgramData%\\tiepdon-install.log (English)" "$reason" 'install refused, the installed version is kept: GATEWAY_URL'
  has "the reason is in %ProgramData%\\tiepdon-install.log (Vietnamese)" "$reason" 'cài đặt bị từ chối'
  has "the /l*v log names the refusing check" "$(tr -d '\0' <"$tmp/refused.log")" 'ValidateProperties.'
  has "the event source tiepdon is registered in the Application log (EventCreate.exe messages)" \
    "$(wine64 reg query 'HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\tiepdon' </dev/null 2>/dev/null | tr -d '\r')" 'EventCreate.exe'
  ev=$(grep -a 'RegisterEventSourceW\|ReportEventW' "$tmp/refused.err" | perl -CS -pe 's/\\([0-9a-f]{4})/chr(hex($1))/ge')
  has "the refusal is reported to the event log under the source tiepdon" "$ev" 'RegisterEventSourceW ((null),L"tiepdon")'
  has "… as an Error entry (type 1, event ID 1)" "$ev" ',0x0001,0x0000,0x00000001,'
  has "… with the reason in Vietnamese" "$ev" 'cài đặt bị từ chối'
  has "… and in English" "$ev" 'install refused, the installed version is kept: GATEWAY_URL'
  kill -0 "$old_agent" 2>/dev/null && has "the refused upgrade leaves the running agent running" "$(healthz apiLevel 50)" apiLevel ||
    bad "the refused upgrade stopped the running agent"
  # The upgrade closes the running agent before it removes the old files (so
  # that none is in use: no reboot, exit 0 rather than 3010), then starts it
  # again with the same command line.
  DISPLAY=$disp wine64 msiexec /i "$next" /qn /l*v "$tmp/upgrade.log" </dev/null >/dev/null 2>&1
  rc=$?
  [ $rc = 0 ] && ok "major upgrade without properties, with the agent running (exit 0: no file in use, no reboot)" || bad "upgrade exit $rc (194 is 3010 & 255: a file in use, replaced at reboot)"
  left=$(ls "$c/Program Files/tiepdon/" | grep -v -x -E 'tiepdon\.(exe|com)' || true)
  [ -z "$left" ] && ok "no file of the install folder waits for a reboot" || bad "left for a reboot in Program Files\\tiepdon: $left"
  for _ in $(seq 300); do kill -0 "$old_agent" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$old_agent" 2>/dev/null; then bad "the running agent was not closed by the upgrade"
  else has "the upgrade asked the running agent to close, and it closed cleanly" "$(cat "$tmp/agent.log")" "closing: an install or upgrade of tiepdon asked to"; fi
  agent="" # the agent now runs under Wine, started by the upgrade: not a child of this script
  h=$(healthz '"window":\{"state":"open"' 600)
  has "the upgrade started the agent again (/healthz answers, window open)" "$h" '"window":{"state":"open"}' || echo "    /healthz: ${h:-no answer}" >&2
  ilog=$(cat "$c/ProgramData/tiepdon-install.log" 2>/dev/null)
  has "%ProgramData%\\tiepdon-install.log: the agent closed on request" "$ilog" "close-agents: 1 running tiepdon closed on request, 0 ended"
  has "%ProgramData%\\tiepdon-install.log: the agent started again" "$ilog" "restart-agents: 1 started again"
  stop_agent
  new_v=$(version)
  [ -n "$new_v" ] && [ "$new_v" != "$old_v" ] && ok "upgraded: version $old_v -> $new_v" || bad "version after upgrade: '$new_v' (was '$old_v')"
  if grep -qi tiepdon <<<"$(runkey)"; then bad "the upgrade turned autostart back on"; else ok "the upgrade keeps AUTOSTART=0"; fi
  has "the upgrade keeps the config (FACILITY_CODE given to the old version)" "$(cat "$c/ProgramData/tiepdon/config.toml" 2>/dev/null)" 79015
  n=$(wine64 reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s </dev/null 2>/dev/null | tr -d '\r' | grep -c 'DisplayName    REG_SZ    tiepdon$')
  [ "$n" = 1 ] && ok "one uninstall entry after the upgrade" || bad "$n uninstall entries after the upgrade"
  # Rollback as docs/install-windows.md says: the older MSI is refused while the
  # newer is installed; uninstalled without REMOVE_DATA, the older one installs
  # and finds the config.
  wine64 msiexec /i "$msi" /qn </dev/null >/dev/null 2>&1
  rc=$?
  [ $rc != 0 ] && [ "$(version)" = "$new_v" ] && ok "a downgrade is refused (exit $rc), $new_v stays" || bad "downgrade: exit $rc, version $(version)"
  wine64 msiexec /x "$next" /qn </dev/null >/dev/null 2>&1 && wine64 msiexec /i "$msi" /qn </dev/null >/dev/null 2>&1
  [ "$(version)" = "$old_v" ] && ok "rollback: uninstall $new_v, install $old_v" || bad "rollback: version '$(version)'"
  has "… the rolled-back version finds the config" "$(cat "$c/ProgramData/tiepdon/config.toml" 2>/dev/null)" 79015
  # Uninstall with REMOVE_DATA=1 and a data_dir of IT's choosing in the machine
  # config, holding a pairing: exactly what docs/install-windows.md lists goes.
  { echo "data_dir = 'C:\TiepdonData'"; cat "$c/ProgramData/tiepdon/config.toml"; } >"$tmp/config.toml" # top-level key: before any [table]
  cp "$tmp/config.toml" "$c/ProgramData/tiepdon/config.toml"
  has "a data_dir set in the machine config is used (pairing add writes there)" \
    "$(wine64 "$c/Program Files/tiepdon/tiepdon.com" pairing add --name winetest --scopes eligibility </dev/null 2>/dev/null | tr -d '\r')" tdp_
  [ -f "$c/TiepdonData/his-tokens.db" ] || bad "no his-tokens.db in C:\\TiepdonData"
  echo keep >"$c/beside.txt"; mkdir -p "$c/ProgramData/other-program"; echo keep >"$c/ProgramData/other-program/x"
  users=$(ls -d "$c"/users/*/AppData/Local/tiepdon 2>/dev/null)
  [ -n "$users" ] && ok "before: a user's %LocalAppData%\\tiepdon exists" || bad "no user's %LocalAppData%\\tiepdon before the uninstall"
  wine64 msiexec /x "$msi" /qn REMOVE_DATA=1 </dev/null >/dev/null 2>&1 && ok "uninstall with REMOVE_DATA=1 (exit 0)" || bad "uninstall with REMOVE_DATA=1"
  for d in "Program Files/tiepdon" ProgramData/tiepdon TiepdonData; do
    [ ! -e "$c/$d" ] && ok "REMOVE_DATA=1 removed C:\\${d//\//\\}" || bad "REMOVE_DATA=1 left C:\\${d//\//\\}: $(ls "$c/$d" | head -5 | tr '\n' ' ')"
  done
  left=$(ls -d "$c"/users/*/AppData/Local/tiepdon "$c"/users/*/AppData/Roaming/tiepdon 2>/dev/null)
  [ -z "$left" ] && ok "REMOVE_DATA=1 removed every user's %LocalAppData%\\tiepdon" || bad "REMOVE_DATA=1 left $left"
  [ -f "$c/beside.txt" ] && [ -f "$c/ProgramData/other-program/x" ] && ok "REMOVE_DATA=1 removed nothing else" || bad "REMOVE_DATA=1 removed other files"
  has "%ProgramData%\\tiepdon-install.log (kept) says what was removed" "$(cat "$c/ProgramData/tiepdon-install.log" 2>/dev/null)" 'purge-data: removed C:\TiepdonData'
fi
echo "== MSI under Wine: $pass ok, $fails failed"
[ $fails = 0 ]
