#!/usr/bin/env bash
# Real-window screenshots of every verdict state and main flow of the
# reception window (the scenes of ui/internal/scenes), the shift start
# (sign-in open), a check refused before sign-in, and the other tabs, under
# Xvfb, into docs/screens/<scene>.png. `make screenshots` takes them at
# 1366×768, and the working screen at 1280×720 and 1920×1080.
#
#   bash ui/screenshots.sh [out-dir] [scene,scene,...]
#
# SCREENS_SIZE=1366x768 photographs a 1366×768 screen with the window filling
# its working area above a 40 px Windows taskbar (SCREENS_TASKBAR=0 for none),
# into <scene>-1366x768.png; the default is 1200×800 with no taskbar.
#
# Needs: xvfb, imagemagick (import), libgl1-mesa-dri (Mesa llvmpipe), the
# Fyne build dependencies. SCREENS_DISPLAY picks the X display (default :94).
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-docs/screens}
only=${2:-}
disp=${SCREENS_DISPLAY:-:94}
screen=${SCREENS_SIZE:-}
suffix=
win=1200x800
if [ -n "$screen" ]; then
	suffix=-$screen
	taskbar=${SCREENS_TASKBAR:-40}
	win=${screen%x*}x$(( ${screen#*x} - taskbar ))
else
	screen=1200x800
fi
go=${GO:-go}

for tool in Xvfb import; do
	command -v "$tool" >/dev/null || { echo "screenshots: $tool not found (apt-get install xvfb imagemagick)" >&2; exit 1; }
done

work=$(mktemp -d)
xpid=
cleanup() {
	[ -n "$xpid" ] && kill "$xpid" 2>/dev/null && wait "$xpid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

echo "screenshots: building ui/internal/screens (the first Fyne GL build takes minutes)"
"$go" build -o "$work/screens" ./ui/internal/screens

# Start Xvfb and wait until it accepts clients: -displayfd writes the
# display number once the server is ready.
mkfifo "$work/ready"
Xvfb "$disp" -screen 0 "${screen}x24" -nolisten tcp -displayfd 3 3>"$work/ready" 2>"$work/xvfb.log" &
xpid=$!
if ! read -r -t 20 _ <"$work/ready"; then
	echo "screenshots: Xvfb $disp did not start:" >&2
	cat "$work/xvfb.log" >&2
	exit 1
fi

mkdir -p "$out"
n=0
coproc SHOTS {
	DISPLAY=$disp LANG=en_US.UTF-8 FYNE_THEME=light FYNE_SCALE=1 \
		timeout 300 "$work/screens" -size "$win" -scene "$only" 2>"$work/screens.log"
}
spid=$SHOTS_PID # bash unsets SHOTS_PID when the coprocess ends
while read -r -u "${SHOTS[0]}" word scene; do
	[ "$word" = READY ] || continue
	import -display "$disp" -window root "$out/$scene$suffix.png"
	n=$((n + 1))
	echo "screenshots: $out/$scene$suffix.png"
	echo next >&"${SHOTS[1]}"
done
if ! wait "$spid"; then
	echo "screenshots: the window program failed:" >&2
	cat "$work/screens.log" >&2
	exit 1
fi
[ "$n" -gt 0 ] || { echo "screenshots: no screenshot taken" >&2; cat "$work/screens.log" >&2; exit 1; }
echo "screenshots: $n written to $out/"
