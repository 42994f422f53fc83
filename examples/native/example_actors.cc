#include "example_actors.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdio>
#include <stdexcept>

#include "troupe/base/encoding.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/envelope.h"

namespace troupe::examples {
namespace {

// Caller-supplied text quoted in an error: one line, escaped, at most 80 bytes of it.
std::string shown(std::string_view text) {
  return printable_line(text.substr(0, 80)) + (text.size() > 80 ? "..." : "");
}

using namespace std::chrono_literals;

// Replies with the payload it got.
class Echo final : public Actor {
 public:
  bool receive(Message& m) override {
    return match(m, [](Envelope& e) -> Result<Bytes> { return e.payload; });
  }
};

// Routes: "inc" [N] adds N (default 1) and replies with the new value; "get"; "reset".
class Counter final : public Actor {
 public:
  bool receive(Message& m) override {
    return match(m, [this](Envelope& e) -> Result<Bytes> {
      if (e.route == "inc") {
        long long n = 1;
        if (!e.payload.empty()) {
          auto [p, ec] = std::from_chars(e.payload.data(), e.payload.data() + e.payload.size(), n);
          if (ec != std::errc{} || p != e.payload.data() + e.payload.size()) {
            return Error{BaseErrc::kInvalidArgument,
                         "inc takes an integer, got '" + shown(e.payload) + "'"};
          }
        }
        value_ += n;
        return std::to_string(value_);
      }
      if (e.route == "get") return std::to_string(value_);
      if (e.route == "reset") {
        value_ = 0;
        return std::string("0");
      }
      return Error{BaseErrc::kNotFound,
                   "counter has no route '" + shown(e.route) + "' (inc, get, reset)"};
    });
  }

 private:
  long long value_ = 0;
};

// Fails on demand, to show supervision: "crash" throws inside the handler.
class Crasher final : public Actor {
 public:
  void on_start() override {
    spdlog::info("crasher {} started (incarnation with {} messages so far)",
                 self().id().to_string(), handled_);
  }
  void on_error(const Error& e) override {
    spdlog::warn("crasher {} failed: {}", self().id().to_string(), e.to_string());
  }
  bool receive(Message& m) override {
    return match(m, [this](Envelope& e) -> Result<Bytes> {
      ++handled_;
      if (e.route == "crash") throw std::runtime_error("crash requested: " + e.payload);
      if (e.route == "ping")
        return std::string("pong after ") + std::to_string(handled_) + " messages";
      return Error{BaseErrc::kNotFound,
                   "crasher has no route '" + shown(e.route) + "' (crash, ping)"};
    });
  }

 private:
  int handled_ = 0;
};

// Asks another actor and reports the round trip.
//   "ping" TARGET            one ask of TARGET ("ping" route), replies "TARGET answered ... in N
//   us" "start" TARGET [MS]      pings TARGET every MS (default 1000) and logs each round trip
//   "stop"                   stops the periodic pings
class Pinger final : public Actor {
 public:
  struct Tick {};

  bool receive(Message& m) override {
    return match(
        m,
        [this](Envelope& e) -> Result<Bytes> {
          if (e.route == "ping") return ping_once(e.payload);
          if (e.route == "start") return start(e.payload);
          if (e.route == "stop") {
            cancel_timer(timer_);
            timer_ = {};
            return std::string("stopped");
          }
          return Error{BaseErrc::kNotFound,
                       "pinger has no route '" + shown(e.route) + "' (ping, start, stop)"};
        },
        [this](Tick&) {
          ActorRef target = system().resolve(target_);
          auto sent = system().clock().now();
          Envelope e;
          e.route = "ping";
          e.payload = "tick " + std::to_string(++ticks_);
          e.caller = self().id();
          ask<Bytes>(target, std::move(e), 2s, [this, sent](Result<Bytes> r) {
            auto us =
                std::chrono::duration_cast<std::chrono::microseconds>(system().clock().now() - sent)
                    .count();
            if (r.ok()) {
              spdlog::info("pinger: {} answered '{}' in {} us", target_, *r, us);
            } else {
              spdlog::warn("pinger: {} failed: {}", target_, r.error().to_string());
            }
          });
        });
  }

 private:
  Result<Bytes> ping_once(const std::string& target_name) {
    ActorRef target = system().resolve(target_name);
    if (!target) return Error{BaseErrc::kNotFound, "no actor '" + target_name + "'"};
    auto reply = std::make_shared<ReplyPromise>(take_reply());
    auto sent = system().clock().now();
    Envelope e;
    e.route = "ping";
    e.payload = "ping";
    e.caller = self().id();
    ask<Bytes>(target, std::move(e), 5s, [this, reply, sent, target_name](Result<Bytes> r) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(system().clock().now() - sent)
                    .count();
      if (!r.ok()) {
        reply->fail(r.error());
        return;
      }
      reply->deliver(target_name + " answered '" + *r + "' in " + std::to_string(us) + " us");
    });
    return std::string();  // ignored: the reply slot was taken
  }

  Result<Bytes> start(const std::string& args) {
    auto space = args.find(' ');
    target_ = args.substr(0, space);
    long long ms = 1000;
    if (space != std::string::npos) {
      std::string period = args.substr(space + 1);
      auto [p, ec] = std::from_chars(period.data(), period.data() + period.size(), ms);
      if (ec != std::errc{} || p != period.data() + period.size() || ms <= 0) {
        return Error{BaseErrc::kInvalidArgument, "start takes TARGET [PERIOD_MS>0]"};
      }
    }
    if (!system().resolve(target_)) return Error{BaseErrc::kNotFound, "no actor '" + target_ + "'"};
    cancel_timer(timer_);
    timer_ = send_every(self(), Tick{}, std::chrono::milliseconds(ms));
    return "pinging " + target_ + " every " + std::to_string(ms) + " ms";
  }

  std::string target_;
  TimerId timer_;
  long long ticks_ = 0;
};

// Notarizes notes: keeps each in its own store and signs it with its custodial key, which
// never leaves the node (storage and signing for native actors, docs/PLATFORM.md). Spawn it
// with a name (`troupe spawn notary --name N`): its notes and its key are kept under it, across
// restarts of the actor and of the node.
//   "note" TEXT      keeps TEXT as the next note; replies "NUMBER SIGNATURE", the base64
//                    Ed25519 signature of TEXT's bytes by the notary's key
//   "get" NUMBER     the note's text
//   "list"           the notes' numbers, one a line (at most 1000)
//   "delete" NUMBER  forgets the note
//   "public-key"     the notary's public key, base64 (what verifies its signatures)
inline constexpr std::uint64_t kNotaryQuotaBytes = std::uint64_t{1} << 20;

class Notary final : public Actor {
 public:
  explicit Notary(NativeActorContext context) : context_(std::move(context)) {}

  bool receive(Message& m) override {
    return match(m, [this](Envelope& e) -> Result<Bytes> {
      if (e.route == "note") return note(e.payload);
      if (e.route == "get") return get(e.payload);
      if (e.route == "list") return list();
      if (e.route == "delete") return remove(e.payload);
      if (e.route == "public-key") return public_key();
      return Error{BaseErrc::kNotFound, "notary has no route '" + shown(e.route) +
                                            "' (note, get, list, delete, public-key)"};
    });
  }

 private:
  static constexpr std::string_view kNotePrefix = "note/";
  static constexpr std::string_view kNextKey = "next";

  // Zero-padded, so the store's byte order is the notes' order.
  static std::string note_key(std::uint64_t number) {
    char digits[32];
    std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(number));
    return std::string(kNotePrefix) + digits;
  }
  static Result<std::uint64_t> parse_number(std::string_view text) {
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || p != text.data() + text.size() || n == 0) {
      return Error{BaseErrc::kInvalidArgument,
                   "a note number is a positive integer, got '" + shown(text) + "'"};
    }
    return n;
  }

  Result<Bytes> note(const Bytes& text) {
    // Signed before anything is written: a failed signature keeps no note.
    auto signer = context_.signer();
    if (!signer.ok()) return signer.error();
    auto signature = (*signer)->sign(text);
    if (!signature.ok()) return signature.error();
    // The note and the counter commit together, and before the reply says so.
    std::uint64_t number = 0;
    auto written = context_.transaction([&](ActorStore& store) -> Result<void> {
      auto next = store.get(kNextKey);
      if (!next.ok()) return next.error();
      number = 1;
      if (next->has_value()) {
        auto n = parse_number(**next);
        if (!n.ok()) return Error{BaseErrc::kInternal, "the note counter is damaged"};
        number = *n;
      }
      if (auto ok = store.put(note_key(number), text); !ok.ok()) return ok;
      return store.put(kNextKey, std::to_string(number + 1));
    });
    if (!written.ok()) return written.error();
    const auto& sig = *signature;
    return std::to_string(number) + " " +
           base64_encode(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
  }

  Result<Bytes> get(const Bytes& number_text) {
    auto number = parse_number(number_text);
    if (!number.ok()) return number.error();
    auto store = context_.storage();
    if (!store.ok()) return store.error();
    auto text = (*store)->get(note_key(*number));
    if (!text.ok()) return text.error();
    if (!text->has_value()) return Error{BaseErrc::kNotFound, "no note " + number_text};
    return std::move(**text);
  }

  Result<Bytes> list() {
    auto store = context_.storage();
    if (!store.ok()) return store.error();
    auto keys = (*store)->list_keys(kNotePrefix, kMaxStoreListKeys);
    if (!keys.ok()) return keys.error();
    std::string out;
    for (const Bytes& key : *keys) {
      auto n = parse_number(std::string_view(key).substr(kNotePrefix.size()));
      if (n.ok()) out += std::to_string(*n) + "\n";
    }
    return out;
  }

  Result<Bytes> remove(const Bytes& number_text) {
    auto number = parse_number(number_text);
    if (!number.ok()) return number.error();
    auto store = context_.storage();
    if (!store.ok()) return store.error();
    auto removed = (*store)->remove(note_key(*number));
    if (!removed.ok()) return removed.error();
    if (!*removed) return Error{BaseErrc::kNotFound, "no note " + number_text};
    return "deleted " + std::to_string(*number);
  }

  Result<Bytes> public_key() {
    auto signer = context_.signer();
    if (!signer.ok()) return signer.error();
    auto key = (*signer)->public_key();
    if (!key.ok()) return key.error();
    return base64_encode(std::string_view(reinterpret_cast<const char*>(key->data()), key->size()));
  }

  NativeActorContext context_;
};

}  // namespace

void register_example_kinds(KindRegistry& kinds) {
  kinds.add("echo", "replies with the payload", [] { return std::make_unique<Echo>(); });
  kinds.add("counter", "routes inc [N], get, reset", [] { return std::make_unique<Counter>(); });
  kinds.add("crasher", "route crash throws (supervision demo); ping replies",
            [] { return std::make_unique<Crasher>(); });
  kinds.add("pinger", "routes ping TARGET, start TARGET [MS], stop",
            [] { return std::make_unique<Pinger>(); });
  kinds.add(
      "notary",
      "keeps and signs notes (storage + signing; spawn with --name): note TEXT, get N, list, "
      "delete N, public-key",
      [](NativeActorContext context) { return std::make_unique<Notary>(std::move(context)); },
      NativeGrants{.storage = true, .storage_quota_bytes = kNotaryQuotaBytes, .signing = true});
  // Guests (with a grant naming them) may reach the kinds that act on their own state only:
  // the pinger sends to whatever target it is given, the crasher crashes on request, the
  // notary signs with its own key.
  kinds.expose_to_guests("echo");
  kinds.expose_to_guests("counter");
}

}  // namespace troupe::examples
