// SPDX-License-Identifier: MIT
// Checks of argument values made at parse time, so that a bad value is a usage error (exit 2).
#pragma once

#include <CLI/CLI.hpp>

namespace duroxide::cli {

/// Accepts an AGE: a whole number and one unit, s m h or d (30s, 15m, 12h, 7d).
CLI::Validator age_validator();

/// Accepts a whole number of at least 1, written in decimal digits only (no sign, no spaces),
/// that fits in 64 bits.
CLI::Validator count_validator();

}  // namespace duroxide::cli
