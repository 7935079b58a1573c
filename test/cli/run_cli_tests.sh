#!/usr/bin/env bash
# Installs the build into a scratch prefix (meson install --destdir, as the install suite does)
# and runs the cli tests against the installed `duroxide`, named by DUROXIDE_CLI; the directory
# of the installed library is DUROXIDE_CLI_LIBDIR (the tests give it to the program only).
# Usage: run_cli_tests.sh BUILD_DIR TEST_BINARY [doctest options]
set -euo pipefail
build=$(cd "$1" && pwd)
tests=$2
shift 2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# --no-rebuild: meson test built everything, and other suites may install from this build too.
meson install -C "$build" --no-rebuild --quiet --destdir "$scratch/root" >/dev/null
option() {
  meson introspect "$build" --buildoptions |
    python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]==sys.argv[1]][0])' "$1"
}
prefix=$(option prefix)
bindir=$(option bindir)
case $bindir in
  /*) ;;
  *) bindir="$prefix/$bindir" ;;
esac
export DUROXIDE_CLI="$scratch/root$bindir/duroxide"
[ -x "$DUROXIDE_CLI" ] || { echo "no installed duroxide at $DUROXIDE_CLI"; exit 1; }
DUROXIDE_CLI_LIBDIR=$(dirname "$(find "$scratch/root" -name 'libduroxide.so*' | head -n 1)")
export DUROXIDE_CLI_LIBDIR
"$tests" "$@"
