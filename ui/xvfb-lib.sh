# Sourced by the real-window scripts (wedge-xvfb.sh, shift-xvfb.sh).
# xvfb_start NAME DISPLAY SIZE checks for Xvfb and xdotool, builds the
# screens program into $work, and starts Xvfb on DISPLAY (e.g. 1366x768x24);
# it sets disp, go, work and xpid, and cleans up when the script exits.

xvfb_start() {
	local name=$1 size=$3
	disp=$2
	go=${GO:-go}
	for tool in Xvfb xdotool; do
		command -v "$tool" >/dev/null || { echo "$name: $tool not found (apt-get install xvfb xdotool)" >&2; exit 1; }
	done
	work=$(mktemp -d)
	xpid=
	trap xvfb_cleanup EXIT
	"$go" build -o "$work/screens" ./ui/internal/screens
	mkfifo "$work/ready" "$work/in"
	Xvfb "$disp" -screen 0 "$size" -nolisten tcp -displayfd 3 3>"$work/ready" 2>"$work/xvfb.log" &
	xpid=$!
	read -r -t 20 _ <"$work/ready" || { echo "$name: Xvfb did not start" >&2; cat "$work/xvfb.log" >&2; exit 1; }
}

xvfb_cleanup() {
	exec 4>&- 2>/dev/null || true
	[ -n "$xpid" ] && kill "$xpid" 2>/dev/null && wait "$xpid" 2>/dev/null
	rm -rf "$work"
}
