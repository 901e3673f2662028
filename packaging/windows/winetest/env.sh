# Sourced by the Windows test lane (packaging/windows/winetest/test.sh): a Wine
# prefix that runs Go 1.26 programs, kept in a cache directory between runs.
#
#   WINEPREFIX    the prefix (created on first use, ~20 s; reused while Wine,
#                 the shim and this file are unchanged)
#   GO_OVERLAY    a `go build -overlay` file for the test binaries (see below)
#
# Debian 12's Wine 8 lacks two things Go 1.26 programs use:
#  - bcryptprimitives.dll (ProcessPrng, called at start-up): built here from
#    bcryptprimitives.c with mingw-w64 and copied into the prefix's system32;
#  - FileDispositionInformationEx (os.Remove and os.RemoveAll since Go 1.25):
#    Wine 8 answers STATUS_NOT_IMPLEMENTED/STATUS_INVALID_DEVICE_REQUEST where
#    older Windows answers STATUS_INVALID_INFO_CLASS, so Go does not fall back
#    to the older call and every t.TempDir cleanup fails. The overlay adds
#    those two answers to Go's fallback list in the test binaries only; the
#    shipped tiepdon.exe is built without it (Windows 10+ has the call).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PATH=/usr/local/go/bin:/usr/lib/wine:$PATH WINEDEBUG=-all WINEARCH=win64
wine_cache=${TIEPDON_WINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tiepdon-wine}
mkdir -p "$wine_cache"
command -v wine64 >/dev/null || { echo "winetest: wine64 is missing: make deps DEPS='build test cross'" >&2; return 1; }
key=$( (wine64 --version; cat "$here/bcryptprimitives.c" "$here/bcryptprimitives.def" "$here/env.sh") 2>/dev/null | sha256sum | cut -c1-12)
export WINEPREFIX=$wine_cache/prefix-$key
if [ ! -f "$WINEPREFIX/.tiepdon-ready" ]; then
  echo "winetest: creating the Wine prefix $WINEPREFIX (once, ~20 s)"
  rm -rf "$wine_cache"/prefix-* "$wine_cache/bcryptprimitives.dll"
  x86_64-w64-mingw32-gcc -shared -O2 -s -o "$wine_cache/bcryptprimitives.dll" \
    "$here/bcryptprimitives.c" "$here/bcryptprimitives.def" -ladvapi32
  WINEDLLOVERRIDES="mscoree,mshtml=" wine64 wineboot -i </dev/null >/dev/null 2>&1 || true
  wineserver -w
  cp "$wine_cache/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
  touch "$WINEPREFIX/.tiepdon-ready"
fi
goroot=$(go env GOROOT)
atsrc=$goroot/src/internal/syscall/windows/at_windows.go
gokey=$( (go version; cat "$atsrc") | sha256sum | cut -c1-12)
export GO_OVERLAY=$wine_cache/overlay-$gokey.json
if [ ! -f "$GO_OVERLAY" ]; then
  patched=$wine_cache/at_windows-$gokey.go
  sed 's|^\tcase STATUS_INVALID_INFO_CLASS,|\tcase NTStatus(0xC0000002), NTStatus(0xC0000010), STATUS_INVALID_INFO_CLASS,|' "$atsrc" >"$patched"
  if cmp -s "$atsrc" "$patched"; then
    echo "winetest: Go's at_windows.go changed: the Wine 8 fallback patch no longer applies" >&2
    return 1
  fi
  printf '{"Replace":{"%s":"%s"}}\n' "$atsrc" "$patched" >"$GO_OVERLAY"
fi
