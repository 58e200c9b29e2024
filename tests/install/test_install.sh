#!/bin/sh
# make install into a temporary prefix, then use it from outside the tree: a small C
# program (tests/install/outside.c) built with pkg-config against the shared and the
# static library, and the installed memtile finding a preset by name from another
# directory; make uninstall leaves nothing behind. TAP output.
set -u
cd "$(dirname "$0")/../.."
SRC=$(pwd)
BUILD=${BUILD:-$SRC/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
P="$tmp/prefix"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; [ -f "$2" ] && sed 's/^/# /' "$2"; }
echo "1..9"

if make --no-print-directory -C "$SRC" BUILD="$BUILD" install PREFIX="$P" > "$tmp/install.txt" 2>&1 &&
   [ -x "$P/bin/memtile" ] && [ -f "$P/lib/libmemtile.a" ] && [ -f "$P/include/memtile.h" ] &&
   [ -f "$P/include/memtile_layer.h" ] && [ -f "$P/include/memtile_train.h" ] && [ -f "$P/share/memtile/presets/rram.json" ] &&
   [ -f "$P/lib/pkgconfig/memtile.pc" ]; then
  ok "make install PREFIX puts tools, libraries, headers, presets and memtile.pc in place"
else
  nok "make install PREFIX puts tools, libraries, headers, presets and memtile.pc in place" "$tmp/install.txt"
fi

soname=$(readelf -d "$P/lib/libmemtile.so" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$soname" = libmemtile.so.0 ] && [ -L "$P/lib/libmemtile.so.0" ]; then
  ok "the shared library's soname is libmemtile.so.0"
else
  nok "the shared library's soname is libmemtile.so.0 (got '$soname')" /dev/null
fi

# Outside the tree: the program and its build directory know nothing of the source.
mkdir -p "$tmp/outside" "$tmp/elsewhere"
cp tests/install/outside.c "$tmp/outside/"
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
cd "$tmp/outside"
if cc -std=c11 -Wall -Wextra -Werror outside.c $(pkg-config --cflags --libs memtile) -lm -o prog > build.txt 2>&1; then
  ok "an outside program builds with pkg-config --cflags --libs memtile"
else
  nok "an outside program builds with pkg-config --cflags --libs memtile" build.txt
fi
if env -u MEMTILE_PRESETS LD_LIBRARY_PATH="$P/lib" ./prog > run.txt 2>&1 &&
   grep -q "preset ideal from $(cd "$P" && pwd -P)/share/memtile/presets/ideal.json" run.txt &&
   grep -q "bogus: invalid argument (bogus://x: unknown scheme" run.txt && grep -q "missing preset: no preset 'no-such-preset'" run.txt &&
   grep -q "trainer: --epochs: 'zero' is not an integer" run.txt &&
   LD_LIBRARY_PATH="$P/lib" ldd ./prog | grep -q "$P/lib/libmemtile.so.0"; then
  ok "it runs on the shared library: device, preset found in the prefix, layer, errors"
else
  nok "it runs on the shared library: device, preset found in the prefix, layer, errors" run.txt
fi
if cc -std=c11 outside.c -I"$P/include" "$P/lib/libmemtile.a" $(pkg-config --static --libs-only-l memtile | sed 's/-lmemtile//') \
     -lm -o prog-static > build-static.txt 2>&1 && env -u MEMTILE_PRESETS ./prog-static > run-static.txt 2>&1 &&
   grep -q "mvm error" run-static.txt; then
  ok "it links and runs against the static library (pkg-config --static)"
else
  nok "it links and runs against the static library (pkg-config --static)" build-static.txt
  [ -f run-static.txt ] && sed 's/^/# /' run-static.txt
fi

cd "$tmp/elsewhere"
Preal=$(cd "$P" && pwd -P)
if env -u MEMTILE_PRESETS "$P/bin/memtile" info --preset rram-2bit > info.txt 2>&1 &&
   grep -q "($Preal/share/memtile/presets/rram-2bit.json)" info.txt; then
  ok "the installed memtile finds a preset by name in PREFIX/share/memtile/presets"
else
  nok "the installed memtile finds a preset by name in PREFIX/share/memtile/presets" info.txt
fi
mkdir -p mine && sed 's/"name": *"[^"]*"/"name": "mine"/' "$SRC/presets/ideal.json" > mine/custom.json
if MEMTILE_PRESETS="$tmp/elsewhere/mine" "$P/bin/memtile" info --preset custom > env.txt 2>&1 &&
   grep -q "(.*/elsewhere/mine/custom.json)" env.txt &&
   ! MEMTILE_PRESETS="$tmp/elsewhere/mine" "$P/bin/memtile" info --preset rram > env2.txt 2>&1; then
  ok "MEMTILE_PRESETS names the one directory searched"
else
  nok "MEMTILE_PRESETS names the one directory searched" env.txt
fi
if env -u MEMTILE_PRESETS "$P/bin/memtile" characterize --preset ideal --samples 8 --reads 1 > char.txt 2>&1; then
  ok "the installed memtile runs (characterize --preset ideal)"
else
  nok "the installed memtile runs (characterize --preset ideal)" char.txt
fi

cd "$SRC"
make --no-print-directory BUILD="$BUILD" uninstall PREFIX="$P" > "$tmp/uninstall.txt" 2>&1
left=$(find "$P" -type f -o -type l | head -5)
if [ -z "$left" ]; then
  ok "make uninstall removes every installed file"
else
  echo "$left" > "$tmp/left.txt"
  nok "make uninstall removes every installed file" "$tmp/left.txt"
fi
