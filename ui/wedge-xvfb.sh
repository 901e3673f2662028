#!/usr/bin/env bash
# Keyboard-wedge scans in a real window: under Xvfb, xdotool types into the
# reception window through X11 and GLFW, like a USB HID scanner (2 ms a key)
# and like a person (120 ms a key), with the focus in a text field, on a
# button and on nothing, with and without Enter. Only the fast bursts may
# come out as scans.
#
#   bash ui/wedge-xvfb.sh
#
# Needs: xvfb, xdotool, libgl1-mesa-dri. WEDGE_DISPLAY picks the display (:95).
set -euo pipefail
cd "$(dirname "$0")/.."

. ui/xvfb-lib.sh
xvfb_start wedge "${WEDGE_DISPLAY:-:95}" 1200x800x24

DISPLAY=$disp LANG=en_US.UTF-8 timeout 120 "$work/screens" -wedge <"$work/in" >"$work/out" 2>"$work/log" &
exec 4>"$work/in" # keeps the program's stdin open until the end

# wait_line PATTERN: wait (10 s at most) for a line of the program's output.
wait_line() {
	for _ in $(seq 100); do
		grep -q -- "$1" "$work/out" && return 0
		sleep 0.1
	done
	echo "wedge: no line matching '$1'; output:" >&2
	cat "$work/out" "$work/log" >&2
	return 1
}
wait_line '^READY idle'
export DISPLAY=$disp
win=$(xdotool search --sync --onlyvisible --name tiepdon | head -1)
xdotool windowactivate --sync "$win" 2>/dev/null || xdotool windowfocus --sync "$win"

fail=0
scans() { grep -c '^SCAN ' "$work/out" || true; }

# 1. Focus in the card-number field (F2), a scanner fires a CCCD QR.
qr='001090123456|123456789|Nguyen Van An|02011990|Nam|So 12 Lang Ha, Ha Noi|15042021'
xdotool key F2
xdotool type --delay 2 "$qr"$'\r' # \r types Return in the same burst (a second xdotool would pause)
wait_line "^SCAN $qr\$" || fail=1

# 2. A person types a card number into the same field and presses Enter.
xdotool type --delay 120 $'DN4010123456789\r'
# 3. Focus on nothing (Escape clears; click on the banner), a BHYT card scan.
xdotool key Escape
xdotool mousemove --window "$win" 600 180 click 1
xdotool type --delay 2 $'DN4010123456789$\r'
wait_line '^SCAN DN4010123456789\$$' || fail=1

# 4. A scanner set up without Enter, into the card-number field: the pause ends the scan.
qr2='079190000001|987654321|Tran Thi Binh|15071985|Nu|So 5 Nguyen Hue, TP HCM|20062022'
xdotool key F2
xdotool type --delay 2 "$qr2"
wait_line "^SCAN $qr2\$" || fail=1

if grep -q '^SCAN DN4010123456789$' "$work/out"; then
	echo "wedge: the slowly typed number was taken for a scan" >&2
	fail=1
fi
n=$(scans)
if [ "$n" != 3 ]; then
	echo "wedge: $n scans, want 3:" >&2
	cat "$work/out" >&2
	fail=1
fi
[ "$fail" = 0 ] && echo "wedge: ok (3 fast bursts were scans, one without Enter; typing was not)"
exit "$fail"
