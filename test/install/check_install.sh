#!/usr/bin/env bash
# Installs the build into a scratch prefix, then builds and runs app.cpp with pkg-config only.
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

meson install -C "$build" --quiet --destdir "$scratch/root" >/dev/null
prefix=$(meson introspect "$build" --buildoptions |
         python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
root="$scratch/root$prefix"
pc_dir=$(dirname "$(find "$root" -name duroxide.pc | head -n 1)")
export PKG_CONFIG_PATH="$pc_dir"
flags=$(pkg-config --define-variable=prefix="$root" --cflags --libs duroxide)
# shellcheck disable=SC2086
g++ -std=c++20 -Wall -Wextra -Werror "$here/app.cpp" -o "$scratch/app" $flags
LD_LIBRARY_PATH="$(dirname "$(find "$root" -name 'libduroxide.so' | head -n 1)")" "$scratch/app"
