#!/usr/bin/env bash
# Rejects includes that break the layering api <- engine -> storage, and public headers that
# do not compile alone. Usage: layering_test.sh SOURCE_ROOT [CXX...] (the compiler command, which
# may be several words, e.g. `ccache c++`).
set -uo pipefail
root=$1
shift
cxx=("$@")
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

public_headers=$(ls api/include/duroxide/*.hpp api/include/duroxide/detail/*.hpp)
reject "public headers include only std and <duroxide/...>" \
  'boost/|lmdb\.h|fmt/|engine/|storage/' $public_headers
reject "only the typed-payload header includes Cereal" 'cereal/' \
  $(echo "$public_headers" | grep -v '/typed\.hpp$')
storage_files=$(ls storage/*.hpp storage/*.cpp storage/platform/*.hpp storage/platform/*.cpp)
reject "storage knows nothing of fibers or the engine" 'boost/fiber|boost/context|engine/' \
  $storage_files
reject "in storage, only storage/platform/*.cpp include operating-system headers" \
  'sys/|unistd\.h|fcntl\.h' $(echo "$storage_files" | grep -v '^storage/platform/.*\.cpp$')
reject "the engine reaches storage only through the Provider interface" 'storage/|lmdb\.h' \
  engine/*.hpp engine/*.cpp engine/platform/*.hpp engine/platform/*.cpp
reject "only engine/platform/*.cpp includes system headers" 'sys/|unistd\.h|fcntl\.h' \
  engine/*.hpp engine/*.cpp engine/platform/*.hpp
reject "LMDB is included only by storage/lmdb_*.cpp" 'lmdb\.h' \
  $(echo "$storage_files" | grep -v '^storage/lmdb_.*\.cpp$')
reject "samples and api tests use the public API only" 'engine/|storage/' \
  samples/*.cpp test/api/*.cpp test/testlib/harness.hpp

for header in $public_headers; do
  if ! echo "#include <${header#api/include/}>" |
      "${cxx[@]}" -std=c++20 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -Iapi/include -x c++ -; then
    echo "layering: $header does not compile alone"
    failures=$((failures + 1))
  fi
done

[ "$failures" -eq 0 ] && echo "layering: ok"
exit "$failures"
