#!/usr/bin/env bash
# A shift in a real window, keyboard only, over the real agent, a gateway
# simulator over HTTP and a cache file (ui/internal/screens -shift). Under
# Xvfb, xdotool:
#   1. scans a BHYT card before anyone signs in: refused with the sign-in
#      instruction, the gateway not asked; signs in (Enter moves from the
#      name to the CCCD; a CCCD one digit short keeps the focus in it);
#      F5 checks the refused patient;
#   2. checks 20 patients, every other one by a scan of their BHYT card's
#      QR on a serial scanner (a pty) and the others by typed card number,
#      name and year;
#   3. corrects a wrong year of birth (070) and a name typed without
#      accents (flagged first, then 060) in place.
# It counts the keys staff press for each path, prints them, and fails
# when a step does not happen.
#
#   bash ui/shift-xvfb.sh      (make shift-xvfb)
#
# Needs: xvfb, xdotool, libgl1-mesa-dri. SHIFT_DISPLAY picks the display (:96).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)

. ui/xvfb-lib.sh
xvfb_start shift "${SHIFT_DISPLAY:-:96}" 1366x768x24

DISPLAY=$disp LANG=en_US.UTF-8 timeout 600 "$work/screens" -shift -size 1366x728 <"$work/in" >"$work/out" 2>"$work/log" &
exec 4>"$work/in"

# wait_line PATTERN [TENTHS]: wait (15 s unless told) for a line of the
# program's output.
wait_line() {
	for _ in $(seq "${2:-150}"); do
		grep -q -- "$1" "$work/out" && return 0
		sleep 0.1
	done
	echo "shift: no line matching '$1'; output:" >&2
	grep -v '^\(PATIENT\|PLAIN\|QR\) ' "$work/out" >&2
	cat "$work/log" >&2
	return 1
}
wait_line '^READY shift'
export DISPLAY=$disp
win=$(xdotool search --sync --onlyvisible --name tiepdon | head -1)
xdotool windowactivate --sync "$win" 2>/dev/null || xdotool windowfocus --sync "$win"

# The people the simulator answers 000: "PATIENT n card year name", their
# BHYT card's QR ("QR n payload") and their name without accents ("PLAIN n name").
field() { awk -v n="$1" -v f="$2" '$1 == "PATIENT" && $2 == n { print $f }' "$work/out"; }
rest() { sed -n "s/^$1 $2 //p" "$work/out"; }
name() { rest PATIENT "$1" | cut -d' ' -f3-; }

# typed TEXT: type like a person (110 ms a key) and count a key per
# character; press KEY...: named keys (Tab, Return, ctrl+a), one each;
# scan N: the serial QR scanner (a pty) reads person N's BHYT card: no
# key pressed by staff.
n=0
typed() { xdotool type --delay 110 "$1"; n=$((n + $(printf %s "$1" | LC_ALL=C.UTF-8 wc -m))); }
press() { for key in "$@"; do xdotool key "$key"; sleep 0.15; n=$((n + 1)); done; }
scan() { echo "scan $1" >&4; }
fail=0
v=0 # verdicts seen
# verdict PATTERN: wait for the next verdict line and check it.
verdict() {
	v=$((v + 1))
	wait_line "^VERDICT $v " || { fail=1; return 1; }
	grep -q "^VERDICT $v $1" "$work/out" && return 0
	echo "shift: verdict $v is not '$1': $(grep "^VERDICT $v " "$work/out")" >&2
	fail=1
	return 1
}
# settle N: wait for the verdict of typed patient N. xdotool now and then
# drops an accented letter (it remaps a spare keycode for each): a name
# left with no accent at all is flagged and waits for a second Enter, and
# the gateway answers 060/061; the name is then corrected in place, as
# staff would (Ctrl+A, the name, Enter). Such keys are counted apart.
settle() {
	local k=$n
	for try in 1 2 3; do
		if ! wait_line "^VERDICT $((v + 1)) " 50 2>/dev/null; then
			press Return # the flagged name: send it as it is
			wait_line "^VERDICT $((v + 1)) " || { fail=1; n=$k; return 1; }
		fi
		v=$((v + 1))
		grep -q "^VERDICT $v typed eligible" "$work/out" && { fixed=$((fixed + n - k)); n=$k; return 0; }
		[ "$try" = 3 ] || { press ctrl+a; typed "$(name "$1")"; press Return; }
	done
	echo "shift: patient $1 ($(name "$1")) not eligible: $(grep "^VERDICT $v " "$work/out")" >&2
	fail=1
	n=$k
	return 1
}
asked() { grep "^VERDICT $v " "$work/out" | sed 's/.*asked=//' || true; }

# 1. Shift start. The sign-in is open with the focus in the name; a scan
# before sign-in is refused by the agent and the gateway is not asked.
scan 21
verdict 'qr-bhyt staff-problem  asked=0' || echo "shift: a scan before sign-in was not refused without asking the gateway" >&2
n=0
typed 'Lê Thị Hoa'; press Return; typed '00119001234'; press Return
typed '5'; press Return
wait_line '^STAFF 0011\*\*\*\*\*\*45$' || fail=1
signin=$((n - 10 - 12))
echo "shift: sign-in took $((signin - 1)) keys besides the name and the CCCD (Enter after each); a CCCD one digit short kept the focus in it and cost 1 Enter more"
n=0
press F5
verdict 'qr-bhyt eligible 000' || true
echo "shift: the patient refused before sign-in checked with $n key (F5), no second scan"

# 2. Twenty patients: odd ones scan their BHYT card's QR, even ones have
# their card number, name and year typed. After each verdict the focus is
# in the card number, so no key is spent getting there.
qrkeys=0 typedkeys=0 fixed=0 nqr=0 ntyped=0
for i in $(seq 1 20); do
	if [ $((i % 2)) = 1 ]; then
		n=0
		scan "$i"
		verdict 'qr-bhyt eligible 000' || continue
		qrkeys=$((qrkeys + n)) nqr=$((nqr + 1))
		continue
	fi
	n=0
	typed "$(field "$i" 3)"; press Tab; typed "$(name "$i")"; press Tab; typed "$(field "$i" 4)"; press Return
	settle "$i" || continue
	typedkeys=$((typedkeys + n)) ntyped=$((ntyped + 1))
done
echo "shift: $nqr of 10 QR scans eligible, $qrkeys keys, $((qrkeys / (nqr > 0 ? nqr : 1))) a patient (the scan only)"
echo "shift: $ntyped of 10 typed patients eligible, $typedkeys keys, $((typedkeys / (ntyped > 0 ? ntyped : 1))) a patient (15 card + name + 4 year + Tab, Tab, Enter; 3 besides what is typed)"
[ "$fixed" = 0 ] || echo "shift: $fixed keys spent correcting names xdotool typed without an accent (not counted above)"

# 3a. A wrong year of birth: the gateway answers 070; the fields stay and
# the focus is in the year: select it, type it, Enter.
typed "$(field 22 3)"; press Tab; typed "$(name 22)"; press Tab; typed "$(($(field 22 4) + 1))"; press Return
verdict 'typed input-mismatch 070' || true
n=0
press ctrl+a; typed "$(field 22 4)"; press Return
verdict 'typed eligible 000' || true
echo "shift: a wrong year (070) corrected with $n keys (Ctrl+A, the year, Enter)"

# 3b. A name typed without accents: flagged before it is sent; sent anyway
# (Enter again) the gateway answers 060 with the fields kept and the focus
# in the name: select it, retype, Enter.
before=$(asked)
typed "$(field 23 3)"; press Tab; typed "$(rest PLAIN 23)"; press Tab; typed "$(field 23 4)"; press Return
press Return
verdict 'typed input-mismatch 060' || true
[ "$(asked)" = $((before + 1)) ] || { echo "shift: the first Enter on a name without accents was sent ($before -> $(asked) checks)" >&2; fail=1; }
n=0
press ctrl+a; typed "$(name 23)"; press Return
settle 23 || true
echo "shift: a name without accents (060) corrected with $n keys (Ctrl+A, the name, Enter)"

echo quit >&4
echo "shift: $v verdicts in $(($(date +%s) - t0)) s"
[ "$fail" = 0 ] || { echo "shift: FAILED" >&2; grep -v '^\(PATIENT\|PLAIN\|QR\) ' "$work/out" >&2; exit 1; }
echo "shift: ok"
