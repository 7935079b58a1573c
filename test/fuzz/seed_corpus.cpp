// SPDX-License-Identifier: MIT
// Writes the fuzzer's seed corpus: one file per valid record, its first byte the record kind.
#include <cstdio>
#include <fstream>
#include <string>

#include "test/fuzz/seed_records.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: seed_corpus DIR\n");
    return 2;
  }
  int written = 0;
  for (const auto& [kind, bytes] : duroxide::fuzz::seed_records()) {
    std::ofstream out(std::string(argv[1]) + "/seed-" + std::to_string(written++),
                      std::ios::binary);
    out.put(static_cast<char>(kind));
    out << bytes;
    if (!out) return 1;
  }
  std::printf("%d seeds\n", written);
  return 0;
}
