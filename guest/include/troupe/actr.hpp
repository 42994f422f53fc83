// troupe guest SDK (C++20): ordinary C++ types over <troupe/actr.h>.
//
//   #include <troupe/actr.hpp>
//
//   actr::Result<std::string> handle(const actr::Envelope& e) {
//     if (e.route == "echo") return std::string(e.payload);
//     return actr::Error{ACTR_UNKNOWN_ROUTE, "no route " + std::string(e.route)};
//   }
//   ACTR_CPP_DISPATCH(handle)
//
// Hooks use the C macros (ACTR_ON_START etc.) with functions of the C signatures; the C++
// helpers below (actr::fail) turn an actr::Error into the status those return.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "troupe/actr.h"

namespace actr {

struct Error {
  Error(actr_status s, std::string m, std::string svc = {})
      : status(s), message(std::move(m)), service(std::move(svc)) {}
  actr_status status;
  std::string message;
  std::string service;  // for ACTR_DEPENDENCY_NOT_FOUND
};

struct Unit {};

// A value or the error that prevented it.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  T& operator*() { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

inline std::string_view view(actr_str s) { return {s.ptr, s.len}; }
inline std::string_view view(actr_bytes b) { return {reinterpret_cast<const char*>(b.ptr), b.len}; }
inline actr_str borrow(std::string_view s) { return {s.data(), s.size()}; }

// An actor id with owned strings.
struct Id {
  std::uint32_t realm = 0;
  std::uint64_t serial = 0;
  std::string manufacturer, name, version;

  static Id take(actr_id& raw) {
    Id id{raw.realm, raw.serial, std::string(view(raw.type.manufacturer)),
          std::string(view(raw.type.name)), std::string(view(raw.type.version))};
    actr_id_free(&raw);
    return id;
  }
  // Borrows this Id's strings: valid while it lives.
  actr_id raw() const {
    return {realm, serial, {borrow(manufacturer), borrow(name), borrow(version)}};
  }
};

struct Envelope {
  std::string_view request_id, route, payload;
};

inline Error last_error() {
  const actr_error* e = actr_last_error();
  return Error{e->status, std::string(view(e->message)), std::string(view(e->service))};
}

inline std::string take(actr_buf& b) {
  std::string s(reinterpret_cast<const char*>(b.ptr), b.len);
  actr_buf_free(&b);
  return s;
}

inline Result<std::string> call(const actr_dest& target, const std::string& route,
                                std::string_view payload) {
  actr_buf reply{};
  if (actr_call(&target, route.c_str(), payload.data(), payload.size(), &reply) != ACTR_OK) {
    return last_error();
  }
  return take(reply);
}

inline Result<Unit> tell(const actr_dest& target, const std::string& route,
                         std::string_view payload) {
  if (actr_tell(&target, route.c_str(), payload.data(), payload.size()) != ACTR_OK) {
    return last_error();
  }
  return Unit{};
}

inline Result<std::string> call_raw(const Id& target, const std::string& route,
                                    std::string_view payload) {
  actr_buf reply{};
  actr_id id = target.raw();
  if (actr_call_raw(&id, route.c_str(), payload.data(), payload.size(), &reply) != ACTR_OK) {
    return last_error();
  }
  return take(reply);
}

inline Result<Id> discover(std::string_view manufacturer, std::string_view name,
                           std::string_view version) {
  actr_type type{borrow(manufacturer), borrow(name), borrow(version)};
  actr_id out{};
  if (actr_discover(&type, &out) != ACTR_OK) return last_error();
  return Id::take(out);
}

inline void log(const char* level, std::string_view message) {
  actr_log(level, "%.*s", static_cast<int>(message.size()), message.data());
}

inline Id self_id() {
  actr_id raw{};
  actr_self_id(&raw);
  return Id::take(raw);
}

inline std::optional<Id> caller_id() {
  actr_id raw{};
  if (!actr_caller_id(&raw)) return std::nullopt;
  return Id::take(raw);
}

inline std::string request_id() {
  actr_buf b = actr_request_id();
  return take(b);
}

// Records `e` as the error a handler returns; returns its status.
inline actr_status fail(const Error& e) {
  if (e.status == ACTR_DEPENDENCY_NOT_FOUND) {
    return actr_fail_dependency(e.service.c_str(), "%s", e.message.c_str());
  }
  return actr_fail(e.status, "%s", e.message.c_str());
}

// The C-level dispatch for a C++ handler `Result<std::string>(const Envelope&)`.
template <auto Handler>
actr_status dispatch_adapter(const actr_envelope* env, actr_buf* reply) {
  Envelope e{view(env->request_id), view(env->route), view(env->payload)};
  auto r = Handler(e);
  if (!r.ok()) return fail(r.error());
  return actr_reply(reply, r.value().data(), r.value().size());
}

}  // namespace actr

#define ACTR_CPP_DISPATCH(fn) ACTR_DISPATCH(::actr::dispatch_adapter<fn>)
