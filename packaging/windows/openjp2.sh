#!/usr/bin/env bash
# Builds OpenJPEG's libopenjp2 as a static mingw-w64 library, so that the
# Windows tiepdon.exe decodes JPEG 2000 chip photos as the Linux build does
# (there with Debian's libopenjp2). The source is Debian's own openjpeg2
# source package, with Debian's patches (security fixes included) applied
# by dpkg-source, so both platforms run the same, maintained decoder.
#
#   packaging/windows/openjp2.sh [OUTDIR]
#
# Prints OUTDIR, which then holds include/, lib/libopenjp2.a and
# libopenjp2.pc; build with PKG_CONFIG_LIBDIR=OUTDIR and -tags openjp2.
# OUTDIR defaults to a per-version folder in the user's cache, and a
# finished build there is reused. Needs: apt-get source (deb-src entries:
# .ci/deps cross adds them), dpkg-dev, x86_64-w64-mingw32-gcc.
set -euo pipefail

CC=${MINGW_CC:-x86_64-w64-mingw32-gcc}
AR=${MINGW_AR:-x86_64-w64-mingw32-ar}
ver=$(apt-cache showsrc openjpeg2 2>/dev/null | awk '/^Version:/{print $2}' | sort -V | tail -1)
if [ -z "$ver" ]; then
  echo "openjp2: apt knows no source package openjpeg2: run .ci/deps cross (it adds deb-src entries)" >&2
  exit 1
fi
out=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/tiepdon/openjp2-mingw-$ver}
if [ -f "$out/lib/libopenjp2.a" ] && [ -f "$out/libopenjp2.pc" ]; then
  echo "$out"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get source -qq "openjpeg2=$ver" >/dev/null 2>&1) || {
  echo "openjp2: apt-get source openjpeg2=$ver failed" >&2
  exit 1
}
src=$(find "$tmp" -maxdepth 4 -type d -path '*/src/lib/openjp2' | head -1)
[ -n "$src" ] || { echo "openjp2: no src/lib/openjp2 in the source package" >&2; exit 1; }
upstream=${ver%%-*}; upstream=${upstream#*:}
IFS=. read -r major minor build <<<"$upstream"

gen=$tmp/gen
mkdir -p "$gen" "$tmp/obj"
cat >"$gen/opj_config.h" <<EOF
/* opj_config.h for a static mingw-w64 build (packaging/windows/openjp2.sh) */
#define OPJ_HAVE_STDINT_H 1
#define OPJ_VERSION_MAJOR $major
#define OPJ_VERSION_MINOR $minor
#define OPJ_VERSION_BUILD ${build:-0}
EOF
cat >"$gen/opj_config_private.h" <<EOF
/* opj_config_private.h for a static mingw-w64 build (packaging/windows/openjp2.sh) */
#define OPJ_HAVE_INTTYPES_H 1
#define OPJ_PACKAGE_VERSION "$upstream"
#define OPJ_HAVE_MALLOC_H
#define OPJ_HAVE__ALIGNED_MALLOC
EOF

# The library's sources as its CMakeLists.txt lists them (no JPIP, no
# threads: a face image decodes in milliseconds on one core).
for f in thread bio cio dwt event ht_dec image invert j2k jp2 mct mqc openjpeg opj_clock pi t1 t2 tcd tgt \
  function_list opj_malloc sparse_array; do
  "$CC" -O2 -std=gnu99 -DOPJ_STATIC -I"$gen" -I"$src" -c "$src/$f.c" -o "$tmp/obj/$f.o"
done
rm -rf "$out"
mkdir -p "$out/include" "$out/lib"
"$AR" rcs "$out/lib/libopenjp2.a" "$tmp"/obj/*.o
cp "$src/openjpeg.h" "$src/opj_stdint.h" "$gen/opj_config.h" "$out/include/"
cat >"$out/libopenjp2.pc" <<EOF
prefix=$out
Name: openjp2
Description: OpenJPEG $upstream (Debian $ver), static, mingw-w64
Version: $upstream
Cflags: -I\${prefix}/include -DOPJ_STATIC
Libs: -L\${prefix}/lib -lopenjp2
EOF
echo "$out"
