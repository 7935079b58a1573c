#!/usr/bin/env bash
# Installs the build into a scratch prefix (meson install --destdir), then builds app.cpp against
# it through pkg-config or through CMake's find_package(duroxide), and runs it.
# Usage: check_install.sh BUILD_DIR CXX pkg-config|cmake
set -euo pipefail
build=$(cd "$1" && pwd)
cxx=$2
route=$3
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# --no-rebuild: meson test built the library, and the two routes run at once in one build dir.
meson install -C "$build" --no-rebuild --quiet --destdir "$scratch/root" >/dev/null
prefix=$(meson introspect "$build" --buildoptions |
         python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
root="$scratch/root$prefix"

# Runs PROGRAM ROUTE (under the command given after them) and checks the line it prints.
run() {
  local program=$1 output
  shift
  output=$("$@" "$program" "$route")
  if [ "$output" != "Hello, $route! ok" ]; then
    echo "the $route consumer printed: $output"
    exit 1
  fi
  echo "$route consumer: $output"
}

# The .pc carries no -std flag (see api/meson.build), so the consumer chooses C++20 itself.
pkg_config_consumer() {
  local pc_dir flags libdir
  pc_dir=$(dirname "$(find "$root" -name duroxide.pc | head -n 1)")
  [ "$(PKG_CONFIG_PATH="$pc_dir" pkg-config --variable=cxx_std duroxide)" = c++20 ]
  flags=$(PKG_CONFIG_PATH="$pc_dir" pkg-config --define-variable=prefix="$root" --cflags --libs \
          duroxide)
  # shellcheck disable=SC2086
  "$cxx" -std=c++20 -Wall -Wextra -Werror "$here/app.cpp" -o "$scratch/app" $flags
  libdir=$(dirname "$(find "$root" -name 'libduroxide.so' | head -n 1)")
  run "$scratch/app" env LD_LIBRARY_PATH="$libdir"
}

# find_package(duroxide CONFIG REQUIRED) through the prefix alone: the imported target brings
# the include directory, the C++20 requirement, Threads and Cereal. The program finds the
# library through the build RPATH that CMake derives from the imported location.
cmake_consumer() {
  if ! cmake -S "$here/cmake" -B "$scratch/cmake-build" -DCMAKE_PREFIX_PATH="$root" \
         -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release >"$scratch/cmake.log" 2>&1 ||
     ! cmake --build "$scratch/cmake-build" >>"$scratch/cmake.log" 2>&1; then
    cat "$scratch/cmake.log"
    exit 1
  fi
  run "$scratch/cmake-build/app" env
}

case $route in
  pkg-config) pkg_config_consumer ;;
  cmake) cmake_consumer ;;
  *) echo "unknown route: $route"; exit 2 ;;
esac
