// SPDX-License-Identifier: MIT
// Result<T, E> and Err<E>: a value or an error, modelled on std::expected.
#pragma once

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace duroxide {

/// The error side of a Result. `return Err("boom");` builds an Err<std::string>.
template <class E>
struct Err {
  E error;
  explicit Err(E e) : error(std::move(e)) {}
};
Err(const char*)->Err<std::string>;

/// Thrown by Result::value() when the Result holds an error. what() is the error as text.
/// Inside an orchestration an uncaught ResultError fails the orchestration with kind
/// "OrchestrationFailed" (the C++ spelling of Rust's `?`).
class ResultError : public std::runtime_error {
 public:
  explicit ResultError(std::string message) : std::runtime_error(std::move(message)) {}
};

namespace detail {
template <class T>
struct is_err : std::false_type {};
template <class E>
struct is_err<Err<E>> : std::true_type {};

template <class E>
std::string error_text(const E& e) {
  if constexpr (std::is_convertible_v<const E&, std::string>) {
    return std::string(e);
  } else if constexpr (requires { e.message; }) {
    return std::string(e.message);
  } else {
    return "error";
  }
}
}  // namespace detail

template <class T, class E>
class Result;

namespace detail {
template <class T>
struct is_result : std::false_type {};
template <class T, class E>
struct is_result<Result<T, E>> : std::true_type {};
}  // namespace detail

/// A value of type T or an error of type E. Thread safety: a plain value type.
///
/// [[nodiscard]]: a Result dropped unread is an error dropped unseen. Where ignoring one is
/// right, say why beside a `(void)` cast.
///
/// Note: with T = E = std::string, `return r.error();` returns a *success* holding the
/// message; write `return Err(r.error());` to propagate an error.
template <class T, class E = std::string>
class [[nodiscard]] Result {
 public:
  /// Implicit from anything T is constructible from: `return "text";` works for
  /// Result<std::string>.
  template <class U>
  requires(std::is_constructible_v<T, U&&> && !detail::is_err<std::remove_cvref_t<U>>::value &&
           !detail::is_result<std::remove_cvref_t<U>>::value)
      Result(U&& value)  // NOLINT(google-explicit-constructor)
      : rep_(std::in_place_index<0>, std::forward<U>(value)) {}

  /// Implicit from Err<U> when E is constructible from U.
  template <class U>
  requires std::is_constructible_v<E, U&&> Result(
      Err<U> err)  // NOLINT(google-explicit-constructor)
      : rep_(std::in_place_index<1>, std::move(err.error)) {}

  bool has_value() const { return rep_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  /// Returns: the value. Throws ResultError when the Result holds an error.
  T& value() & { return check(), std::get<0>(rep_); }
  const T& value() const& { return check(), std::get<0>(rep_); }
  T&& value() && { return check(), std::get<0>(std::move(rep_)); }

  /// Requires: !has_value().
  const E& error() const { return std::get<1>(rep_); }

  T value_or(T fallback) const { return has_value() ? std::get<0>(rep_) : std::move(fallback); }

  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void check() const {
    if (!has_value()) throw ResultError(detail::error_text(error()));
  }
  std::variant<T, E> rep_;
};

/// Success or an error of type E, with no value. [[nodiscard]] like Result<T, E>.
template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  /// Success.
  Result() = default;

  template <class U>
  requires std::is_constructible_v<E, U&&> Result(
      Err<U> err)  // NOLINT(google-explicit-constructor)
      : error_(std::move(err.error)), failed_(true) {}

  bool has_value() const { return !failed_; }
  explicit operator bool() const { return has_value(); }

  /// Throws ResultError when the Result holds an error.
  void value() const {
    if (failed_) throw ResultError(detail::error_text(error_));
  }

  /// Requires: !has_value().
  const E& error() const { return error_; }

 private:
  E error_{};
  bool failed_ = false;
};

}  // namespace duroxide
