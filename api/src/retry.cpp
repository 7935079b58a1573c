// SPDX-License-Identifier: MIT
// The waits of a Backoff.
#include <duroxide/retry.hpp>

#include <algorithm>
#include <cmath>

namespace duroxide {

std::chrono::milliseconds Backoff::delay_after(std::uint32_t attempt) const {
  using std::chrono::milliseconds;
  const double n = std::max<std::uint32_t>(attempt, 1);
  const double base = static_cast<double>(std::max<std::int64_t>(base_.count(), 0));
  const double cap = static_cast<double>(std::max<std::int64_t>(max_.count(), 0));
  double wait = 0;
  switch (shape_) {
    case Shape::None:
      return milliseconds(0);
    case Shape::Fixed:
      return std::max(base_, milliseconds(0));
    case Shape::Linear:
      wait = base * n;
      break;
    case Shape::Exponential:
      wait = base * std::pow(std::max(multiplier_, 0.0), n - 1);
      break;
  }
  // The comparison also catches infinity and NaN from huge exponents.
  if (!(wait < cap)) wait = cap;
  return milliseconds(static_cast<std::int64_t>(wait));
}

}  // namespace duroxide
