#!/usr/bin/env bash
# Rejects includes that break the layering api <- engine -> storage, and public headers that
# do not compile alone. Usage: layering_test.sh SOURCE_ROOT [CXX...] (a launcher such as ccache may
# come first)
set -uo pipefail
root=$1
cxx=("${@:2}")
[ "${#cxx[@]}" -eq 0 ] && cxx=(c++)
cd "$root" || exit 1
failures=0

reject() {  # reject DESCRIPTION PATTERN FILES...
  local what=$1 pattern=$2
  shift 2
  local found
  found=$(grep -nE "^#include[[:space:]]*[<\"]($pattern)" "$@" 2>/dev/null)
  if [ -n "$found" ]; then
    echo "layering: $what:"
    echo "$found"
    failures=$((failures + 1))
  fi
}

reject "public headers include only std and <duroxide/...>" \
  'boost/|lmdb\.h|fmt/|engine/|storage/' api/include/duroxide/*.hpp
reject "only the typed-payload header includes Cereal" 'cereal/' \
  $(ls api/include/duroxide/*.hpp | grep -v '/typed\.hpp$')
reject "storage knows nothing of fibers or the engine" 'boost/fiber|boost/context|engine/' \
  storage/*.hpp storage/*.cpp
reject "the engine reaches storage only through the Provider interface" 'storage/|lmdb\.h' \
  engine/*.hpp engine/*.cpp engine/platform/*.hpp engine/platform/*.cpp
reject "only engine/platform/*.cpp includes system headers" 'sys/|unistd\.h|fcntl\.h' \
  engine/*.hpp engine/*.cpp engine/platform/*.hpp
reject "LMDB is included only by storage/lmdb_*.cpp" 'lmdb\.h' \
  $(ls storage/*.hpp storage/*.cpp | grep -v '^storage/lmdb_.*\.cpp$')
reject "samples and api tests use the public API only" 'engine/|storage/' \
  samples/*.cpp test/api/*.cpp test/testlib/harness.hpp

for header in api/include/duroxide/*.hpp; do
  if ! echo "#include <duroxide/$(basename "$header")>" |
      "${cxx[@]}" -std=c++20 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -Iapi/include -x c++ -; then
    echo "layering: $header does not compile alone"
    failures=$((failures + 1))
  fi
done

[ "$failures" -eq 0 ] && echo "layering: ok"
exit "$failures"
