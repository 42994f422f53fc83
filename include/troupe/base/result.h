// Result<T>: a value or an Error, the return type of every operation that can fail at run
// time. A small stand-in for std::expected (C++23), which g++ 12 does not ship.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "troupe/base/error.h"

namespace troupe {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit
  Result(ErrorCode code, std::string detail = {})                        // NOLINT: implicit
      : v_(std::in_place_index<1>, Error{code, std::move(detail)}) {}
  template <ErrorEnum E>
  Result(E code, std::string detail = {})  // NOLINT: implicit
      : v_(std::in_place_index<1>, Error{code, std::move(detail)}) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  T value_or(T fallback) const { return ok() ? std::get<0>(v_) : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

struct Unit {
  friend bool operator==(Unit, Unit) { return true; }
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit
  Result(ErrorCode code, std::string detail = {})                // NOLINT: implicit
      : error_(Error{code, std::move(detail)}), ok_(false) {}
  template <ErrorEnum E>
  Result(E code, std::string detail = {})  // NOLINT: implicit
      : error_(Error{code, std::move(detail)}), ok_(false) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_{BaseErrc::kInternal};
  bool ok_ = true;
};

template <class T>
struct is_result : std::false_type {};
template <class T>
struct is_result<Result<T>> : std::true_type {};

}  // namespace troupe
