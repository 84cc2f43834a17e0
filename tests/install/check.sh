#!/bin/sh
# tests/install/check.sh BUILD_DIR WORK_DIR [CC] — installs the build into
# WORK_DIR/prefix with `cmake --install`, then builds tests/install/consumer.c
# against the installed package four ways and runs each: find_package with
# clscale::clscale (shared) and clscale::clscale_static, and pkg-config
# (shared; static with --static). Any failure stops the test with its output.
set -eu
build=$1
work=$2
cc=${3:-cc}
here=$(cd "$(dirname "$0")" && pwd)
prefix=$work/prefix
rm -rf "$work"
mkdir -p "$work"

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
test -x "$prefix/bin/clscale" || { echo "install: no bin/clscale" >&2; exit 1; }
test -f "$prefix/include/clscale/ops.h" || { echo "install: no include/clscale/ops.h" >&2; exit 1; }
pc=$(find "$prefix" -name clscale.pc | head -n 1)
config=$(find "$prefix" -name clscaleConfig.cmake | head -n 1)
test -n "$pc" || { echo "install: no clscale.pc" >&2; exit 1; }
test -n "$config" || { echo "install: no clscaleConfig.cmake" >&2; exit 1; }
libdir=$(dirname "$(dirname "$pc")")

echo "== find_package(clscale)"
cmake -S "$here" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" > "$work/configure.log"
cmake --build "$work/cmake" > "$work/build.log"
"$work/cmake/consumer_shared"
"$work/cmake/consumer_static"
# The shared consumer must use the installed library, not the build tree's.
if command -v ldd > /dev/null; then
  ldd "$work/cmake/consumer_shared" | grep -q "$libdir/libclscale.so" ||
    { echo "consumer_shared does not load $libdir/libclscale.so:" >&2; ldd "$work/cmake/consumer_shared" >&2; exit 1; }
fi

echo "== pkg-config clscale"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046 # pkg-config output is a list of flags
"$cc" -o "$work/consumer_pc" "$here/consumer.c" $(pkg-config --cflags --libs clscale) -lm
LD_LIBRARY_PATH="$libdir" "$work/consumer_pc"
# shellcheck disable=SC2046
"$cc" -o "$work/consumer_pc_static" "$here/consumer.c" $(pkg-config --cflags clscale) "$libdir/libclscale.a" \
  $(pkg-config --static --libs clscale | sed 's/-lclscale//') -lm
"$work/consumer_pc_static"
echo "install: ok"
