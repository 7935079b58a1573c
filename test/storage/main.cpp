// SPDX-License-Identifier: MIT
// The doctest runner of test_storage, which doubles as the child process of multi-process tests.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <string_view>

#include "test/storage/child_process.hpp"

int main(int argc, char** argv) {
  using duroxide::storage::testing::kChildFlag;
  if (argc > 1 && std::string_view(argv[1]) == kChildFlag) {
    return duroxide::storage::testing::run_child_command(argc, argv);
  }
  return doctest::Context(argc, argv).run();
}
