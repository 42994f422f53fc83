// ErrorCode: one code of any layer's error enum (base, runtime, wasm, node), so an Error made in
// one layer crosses the others unchanged — a runtime ask failure reaches the wasm host, a guest
// trap reaches the node and the CLI — while each layer still owns a closed enum of its own.
//
// A layer makes its enum E an error enum by declaring, in E's namespace, a kebab-case
// `errc_name(E)` and `constexpr const ErrorDomain& error_domain(E)` returning one
// `inline constexpr ErrorDomain` (the address identifies the layer, like std::error_category;
// `inline` makes it one object in every translation unit). Codes of different layers never
// compare equal, even when their enumerators have the same value.
//
// Values are plain data (a pointer to a constant and an int): copyable, thread-safe to share.
#pragma once

#include <concepts>
#include <iosfwd>
#include <optional>
#include <string_view>
#include <type_traits>

namespace troupe {

// What every code of one layer's enum shares: the layer's name and its codes' names.
struct ErrorDomain {
  std::string_view layer;               // "base", "runtime", "wasm", "node"
  std::string_view (*name)(int value);  // a code's kebab-case name, "unknown" if out of range
};

template <class E>
concept ErrorEnum = std::is_enum_v<E> && requires(E e) {
  { error_domain(e) } -> std::same_as<const ErrorDomain&>;
};

namespace detail {
// Unconstrained: a layer names its domain before it declares error_domain(E).
template <class E>
std::string_view error_name_by_value(int value) {
  return errc_name(static_cast<E>(value));
}
}  // namespace detail

// The descriptor a layer's error_domain(E) returns, e.g.
//   inline constexpr ErrorDomain kWasmErrorDomain = make_error_domain<WasmErrc>("wasm");
template <class E>
constexpr ErrorDomain make_error_domain(std::string_view layer) {
  return ErrorDomain{layer, &detail::error_name_by_value<E>};
}

class ErrorCode {
 public:
  template <ErrorEnum E>
  constexpr ErrorCode(E code) noexcept  // NOLINT(google-explicit-constructor): on purpose
      : domain_(&error_domain(code)), value_(static_cast<int>(code)) {}

  // Whether this code belongs to E's layer; as<E>() is the code as E, nullopt if not.
  template <ErrorEnum E>
  constexpr bool is() const noexcept {
    return domain_ == &error_domain(E{});
  }
  template <ErrorEnum E>
  constexpr std::optional<E> as() const noexcept {
    if (!is<E>()) return std::nullopt;
    return static_cast<E>(value_);
  }

  // The kebab-case name ("trap", "not-found"): what the CLI, the control protocol and the
  // guest-facing messages print, so the names never change.
  std::string_view name() const { return domain_->name(value_); }
  constexpr std::string_view layer() const noexcept { return domain_->layer; }

  friend constexpr bool operator==(const ErrorCode& a, const ErrorCode& b) noexcept = default;

 private:
  const ErrorDomain* domain_;
  int value_;
};

// Prints "layer/name" ("wasm/trap"), for test failure messages and logs.
std::ostream& operator<<(std::ostream& out, const ErrorCode& code);

}  // namespace troupe
