#!/usr/bin/env bash
# Installs the Debian packages the build needs (if missing), configures and builds into build/,
# with warnings as errors (-Dwerror=true, also turned on in a build/ configured without it).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ meson ninja-build pkg-config cmake libboost-fiber-dev libboost-context-dev
          liblmdb-dev libfmt-dev libcereal-dev doctest-dev libcli11-dev
          nlohmann-json3-dev)
. scripts/install_missing.sh
. scripts/werror.sh
install_missing "${packages[@]}"

build=${BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --wrap-mode=nodownload -Dwerror=true "$@"
else
  werror_on "$build"
fi
ninja -C "$build"
