#!/usr/bin/env bash
# Runs the storage, engine and api suites under ThreadSanitizer in a g++ build (build-tsan/),
# with the suppressions of test/tsan.supp; the first unsuppressed report ends its test program,
# which then fails. Installs g++'s TSan runtime if it is missing; exits 0 and says so if it
# cannot be had.
#
# Why these suites: a shard runs its fibers on its own thread and never moves them, which is
# what TSan needs (it knows threads, not fibers). The crash suite is left out because its
# SIGKILL rounds are timed for full speed (under TSan the workers finish nothing before they
# are killed) and the soak because g++'s TSan runtime grows by about 1 GB a second with that
# many fibers. The engine suite runs at 1 and 4 orchestration threads, as in every build. Of the
# storage suite, the store check's program (storage-check) is left out: its tests fork checking
# children from a process with threads, where TSan's runtime hangs.
# g++ is the compiler test/tsan.supp was written against. -Wno-tsan: Boost.Fiber's headers use
# atomic_thread_fence, which TSan does not model; g++ warns about it and the build uses -Werror.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
build=${TSAN_BUILD_DIR:-build-tsan}

packages=(g++ libtsan2 libgcc-12-dev)
. scripts/install_missing.sh
. scripts/werror.sh
install_missing "${packages[@]}" >/dev/null 2>&1 || echo "could not install ${packages[*]}"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <thread>\nint main() { int x = 0; std::thread t([&] { x = 1; }); t.join(); return x - 1; }\n' \
  >"$probe/probe.cpp"
if ! g++ -fsanitize=thread "$probe/probe.cpp" -o "$probe/probe" >/dev/null 2>&1 ||
   ! "$probe/probe" >/dev/null 2>&1; then
  echo "ThreadSanitizer is not available (g++ with libtsan): the TSan run is skipped"
  exit 0
fi

if [ ! -f "$build/build.ninja" ]; then
  CXX=g++ meson setup "$build" --wrap-mode=nodownload -Dwerror=true -Db_sanitize=thread \
    -Dcpp_args=-Wno-tsan >/dev/null || exit 1
else
  werror_on "$build" || exit 1
fi
# Only the three test programs: the rest of the project is tested by the other builds.
ninja -C "$build" test/storage/test_storage test/engine/test_engine test/api/test_api \
  >/dev/null || { echo "TSan build failed"; exit 1; }
export TSAN_OPTIONS="suppressions=$PWD/test/tsan.supp halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
started=$SECONDS
meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 1 --timeout-multiplier 3 \
  storage engine-threads-1 engine-threads-4 api
status=$?
echo "ThreadSanitizer run: $((SECONDS - started)) s"
exit $status
