#!/usr/bin/env bash
# Builds and runs tests/packaging/consumer against tutti four ways: installed
# find_package, the build tree as a package, add_subdirectory, and pkg-config.
# Usage: run.sh <tutti source dir> <tutti build dir>
set -euo pipefail
src=$1 build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
consumer="$src/tests/packaging/consumer"
gen=(-G Ninja -DCMAKE_BUILD_TYPE=Release)

cmake --install "$build" --prefix "$work/prefix" >/dev/null

echo "== find_package (installed)"
cmake -S "$consumer" -B "$work/installed" "${gen[@]}" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/installed" >/dev/null
"$work/installed/consumer"
"$work/installed/c_consumer"

echo "== find_package (build tree)"
cmake -S "$consumer" -B "$work/buildtree" "${gen[@]}" -Dtutti_DIR="$build" >/dev/null
cmake --build "$work/buildtree" >/dev/null
"$work/buildtree/consumer"
"$work/buildtree/c_consumer"

echo "== add_subdirectory"
cmake -S "$consumer" -B "$work/subdir" "${gen[@]}" -DTUTTI_CONSUMER_MODE=add_subdirectory -DTUTTI_SOURCE_DIR="$src" >/dev/null
cmake --build "$work/subdir" >/dev/null
"$work/subdir/consumer"
"$work/subdir/c_consumer"

echo "== pkg-config"
pcdir=$(dirname "$(find "$work/prefix" -name tutti.pc | head -n 1)")
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs --static tutti)
# shellcheck disable=SC2086
c++ "$consumer/main.cpp" $flags -o "$work/pkgconfig-consumer"
"$work/pkgconfig-consumer"
