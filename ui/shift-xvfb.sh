#!/usr/bin/env bash
# A shift in a real window, keyboard only: under Xvfb, xdotool signs in at
# the shift start, checks 20 patients by typed card number, name and year of
# birth, and corrects a name the gateway spells differently (060). It counts
# the keystrokes of each path and fails when a step does not happen.
#
#   bash ui/shift-xvfb.sh
#
# Needs: xvfb, xdotool, libgl1-mesa-dri. SHIFT_DISPLAY picks the display (:96).
set -euo pipefail
cd "$(dirname "$0")/.."

. ui/xvfb-lib.sh
xvfb_start shift "${SHIFT_DISPLAY:-:96}" 1366x768x24

DISPLAY=$disp LANG=en_US.UTF-8 timeout 600 "$work/screens" -shift -size 1366x728 <"$work/in" >"$work/out" 2>"$work/log" &
exec 4>"$work/in"

wait_line() {
	for _ in $(seq 150); do
		grep -q -- "$1" "$work/out" && return 0
		sleep 0.1
	done
	echo "shift: no line matching '$1'; output:" >&2
	cat "$work/out" "$work/log" >&2
	return 1
}
wait_line '^READY shift'
export DISPLAY=$disp
win=$(xdotool search --sync --onlyvisible --name tiepdon | head -1)
xdotool windowactivate --sync "$win" 2>/dev/null || xdotool windowfocus --sync "$win"

# typed TEXT: type like a person and count one key per character;
# press KEY...: named keys (Tab, Return, ctrl+a), one key each.
n=0
typed() { xdotool type --delay 110 "$1"; n=$((n + ${#1})); }
press() { for k in "$@"; do xdotool key "$k"; sleep 0.15; n=$((n + 1)); done; }
extra=0 # keys besides what is typed (names, numbers)
fail=0

# 1. Shift start: the sign-in is open with the focus in the name.
typed 'Lê Thị Hoa'; press Return; typed '001190012345'; press Return
wait_line '^STAFF 0011\*\*\*\*\*\*45$' || fail=1
signin=$n
echo "shift: sign-in took $signin keys (2 besides the name and the CCCD)"

# 2. Twenty patients by typed card number; after each verdict the focus is
# back in the card number, so no key is spent getting there.
n=0
c=0
retyped=0
for i in $(seq 1 20); do
	c=$((c + 1))
	typed "DN40101234567$(printf %02d "$i")"; press Tab; typed 'Nguyễn Văn Bình'; press Tab; typed '1990'; press Return
	# xdotool now and then drops an accented letter (it remaps a spare
	# keycode for each); the gateway then answers 060 and the name is
	# corrected in place, as staff would: Ctrl+A, the name, Enter.
	for _ in 1 2 3; do
		wait_line "^VERDICT t$c " || { fail=1; break 2; }
		grep -q "^VERDICT t$c eligible$" "$work/out" && break
		retyped=$((retyped + 1)); c=$((c + 1))
		press ctrl+a; typed 'Nguyễn Văn Bình'; press Return
	done
	grep -q "^VERDICT t$c eligible$" "$work/out" || { fail=1; break; }
done
echo "shift: $retyped names corrected after xdotool dropped an accent"
per=$((n / 20))
echo "shift: 20 typed patients took $n keys, $per a patient (15 card + 15 name + 4 year + Tab, Tab, Enter)"

# 3. A name typed without accents: flagged before it is sent; sent anyway
# (Enter again) the gateway answers 060 with its spelling; the fields stay,
# the focus is in the name: select it, retype, Enter.
n=0
typed 'DN4010123456799'; press Tab; typed 'Nguyen Van Binh'; press Tab; typed '1990'; press Return
sleep 1
if grep -q "^CHECK t$((c + 1)) " "$work/out"; then echo "shift: a name without accents was sent without a warning" >&2; fail=1; fi
press Return
wait_line "^VERDICT t$((c + 1)) input-mismatch$" || fail=1
before=$n
n=0
press ctrl+a; typed 'Nguyễn Văn Bình'; press Return
c=$((c + 2))
wait_line "^VERDICT t$c eligible$" || fail=1
grep -q "^CHECK t$c DN4010123456799 " "$work/out" || { echo "shift: the card number was not kept for the correction" >&2; fail=1; }
echo "shift: mismatch correction took $n keys (Ctrl+A, the name, Enter); the first attempt $before"

echo quit >&4
[ "$fail" = 0 ] || { echo "shift: FAILED" >&2; cat "$work/out" >&2; exit 1; }
echo "shift: ok"
