// The published Noise test vectors (cacophony's and snow's), read in place from
// TROUPE_NOISE_VECTORS_DIR. Every Noise_XX_25519_ChaChaPoly_BLAKE2b vector is run through both
// roles; a missing or unreadable file, or one with no such vector, fails the test.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "net/hex.h"
#include "troupe/net/noise_handshake.h"

namespace troupe::net {
namespace {

using test::byte_span;
using test::to_hex;

struct XxVector {
  int index = 0;  // in the file's "vectors" array
  Bytes init_prologue, init_static, init_ephemeral;
  Bytes resp_prologue, resp_static, resp_ephemeral;
  std::optional<Bytes> handshake_hash;            // snow's vectors carry none
  std::vector<std::pair<Bytes, Bytes>> messages;  // (payload, ciphertext)
};

struct XxVectors {
  std::vector<XxVector> vectors;
  int psk_vectors_skipped = 0;
};

Result<Bytes> hex_field(const nlohmann::json& vector, const char* name) {
  auto it = vector.find(name);
  if (it == vector.end() || !it->is_string()) {
    return Error{BaseErrc::kInvalidArgument, std::string("no string field ") + name};
  }
  auto bytes = test::from_hex(it->get<std::string>());
  if (!bytes) return Error{BaseErrc::kInvalidArgument, std::string("bad hex in ") + name};
  return *bytes;
}

// The file's Noise_XX_25519_ChaChaPoly_BLAKE2b vectors. Errors: io (missing or unreadable),
// invalid-argument (not JSON, a matching vector with a missing or malformed field), not-found
// (no matching vector without PSKs).
Result<XxVectors> load_xx_vectors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return Error{BaseErrc::kIo, "cannot open " + path};
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error{BaseErrc::kIo, "cannot read " + path};
  const auto doc = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("vectors") ||
      !doc["vectors"].is_array()) {
    return Error{BaseErrc::kInvalidArgument, path + " is not a test vector file"};
  }
  XxVectors out;
  const auto& all = doc["vectors"];
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& v = all[i];
    if (!v.is_object() || v.value("protocol_name", "") != NoiseHandshake::kProtocolName) continue;
    const std::string where = path + " vector " + std::to_string(i) + ": ";
    // PSKs would change the transcript; the exact name has no psk modifier, so any here
    // would be a vector for something else.
    bool has_psks = false;
    for (const char* field : {"init_psks", "resp_psks"}) {
      if (v.contains(field) && (!v[field].is_array() || !v[field].empty())) has_psks = true;
    }
    if (has_psks) {
      ++out.psk_vectors_skipped;
      continue;
    }
    XxVector vector;
    vector.index = static_cast<int>(i);
    struct Field {
      const char* name;
      Bytes* into;
    };
    for (auto [name, into] :
         {Field{"init_prologue", &vector.init_prologue}, Field{"init_static", &vector.init_static},
          Field{"init_ephemeral", &vector.init_ephemeral},
          Field{"resp_prologue", &vector.resp_prologue}, Field{"resp_static", &vector.resp_static},
          Field{"resp_ephemeral", &vector.resp_ephemeral}}) {
      auto bytes = hex_field(v, name);
      if (!bytes.ok()) return Error{BaseErrc::kInvalidArgument, where + bytes.error().detail};
      *into = std::move(bytes).value();
    }
    if (v.contains("handshake_hash")) {
      auto hash = hex_field(v, "handshake_hash");
      if (!hash.ok()) return Error{BaseErrc::kInvalidArgument, where + hash.error().detail};
      vector.handshake_hash = std::move(hash).value();
    }
    if (!v.contains("messages") || !v["messages"].is_array()) {
      return Error{BaseErrc::kInvalidArgument, where + "no messages"};
    }
    for (const auto& m : v["messages"]) {
      auto payload = hex_field(m, "payload");
      auto ciphertext = hex_field(m, "ciphertext");
      if (!payload.ok() || !ciphertext.ok()) {
        return Error{BaseErrc::kInvalidArgument,
                     where + "a message without hex payload/ciphertext"};
      }
      vector.messages.emplace_back(std::move(payload).value(), std::move(ciphertext).value());
    }
    if (vector.messages.size() < NoiseHandshake::kMessageCount) {
      return Error{BaseErrc::kInvalidArgument, where + "fewer messages than the handshake has"};
    }
    out.vectors.push_back(std::move(vector));
  }
  if (out.vectors.empty()) {
    return Error{
        BaseErrc::kNotFound,
        path + " has no " + std::string(NoiseHandshake::kProtocolName) + " vector without PSKs"};
  }
  return out;
}

Result<NoiseHandshake> vector_side(NoiseRole role, const Bytes& static_key, const Bytes& ephemeral,
                                   const Bytes& prologue) {
  auto local = NoiseKeyPair::from_private_key(byte_span(static_key));
  auto fixed = NoiseKeyPair::from_private_key(byte_span(ephemeral));
  if (!local.ok()) return local.error();
  if (!fixed.ok()) return fixed.error();
  return NoiseHandshake::create_with_fixed_ephemeral_for_tests(role, *local, prologue, *fixed);
}

// Handshake messages alternate from the initiator; after the split the vectors' messages go on
// alternating (so in XX the first transport message is the responder's).
void run_vector(const XxVector& vector) {
  SCOPED_TRACE("vector " + std::to_string(vector.index));
  auto initiator = vector_side(NoiseRole::kInitiator, vector.init_static, vector.init_ephemeral,
                               vector.init_prologue);
  auto responder = vector_side(NoiseRole::kResponder, vector.resp_static, vector.resp_ephemeral,
                               vector.resp_prologue);
  ASSERT_TRUE(initiator.ok() && responder.ok());

  std::optional<NoiseTransport> initiator_transport;
  std::optional<NoiseTransport> responder_transport;
  for (std::size_t i = 0; i < vector.messages.size(); ++i) {
    SCOPED_TRACE("message " + std::to_string(i));
    const auto& [payload, ciphertext] = vector.messages[i];
    const bool from_initiator = i % 2 == 0;
    if (i < NoiseHandshake::kMessageCount) {
      NoiseHandshake& sender = from_initiator ? *initiator : *responder;
      NoiseHandshake& receiver = from_initiator ? *responder : *initiator;
      ASSERT_TRUE(sender.writes_next());
      auto written = sender.write_message(payload);
      ASSERT_TRUE(written.ok()) << written.error().to_string();
      EXPECT_EQ(to_hex(*written), to_hex(ciphertext));
      auto read = receiver.read_message(ciphertext);
      ASSERT_TRUE(read.ok()) << read.error().to_string();
      EXPECT_EQ(to_hex(*read), to_hex(payload));
      if (i + 1 == NoiseHandshake::kMessageCount) {
        ASSERT_TRUE(initiator->finished() && responder->finished());
        auto initiator_hash = initiator->handshake_hash();
        auto responder_hash = responder->handshake_hash();
        ASSERT_TRUE(initiator_hash.ok() && responder_hash.ok());
        EXPECT_EQ(*initiator_hash, *responder_hash);
        if (vector.handshake_hash) {
          EXPECT_EQ(to_hex(*initiator_hash), to_hex(*vector.handshake_hash));
        }
        auto init_static = NoiseKeyPair::from_private_key(byte_span(vector.init_static));
        auto resp_static = NoiseKeyPair::from_private_key(byte_span(vector.resp_static));
        ASSERT_TRUE(init_static.ok() && resp_static.ok());
        EXPECT_EQ(initiator->remote_static(), resp_static->public_key());
        EXPECT_EQ(responder->remote_static(), init_static->public_key());
        auto a = initiator->split();
        auto b = responder->split();
        ASSERT_TRUE(a.ok() && b.ok());
        initiator_transport.emplace(std::move(a).value());
        responder_transport.emplace(std::move(b).value());
      }
      continue;
    }
    NoiseTransport& sender = from_initiator ? *initiator_transport : *responder_transport;
    NoiseTransport& receiver = from_initiator ? *responder_transport : *initiator_transport;
    auto sealed = sender.encrypt(payload);
    ASSERT_TRUE(sealed.ok()) << sealed.error().to_string();
    EXPECT_EQ(to_hex(*sealed), to_hex(ciphertext));
    auto opened = receiver.decrypt(ciphertext);
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    EXPECT_EQ(to_hex(*opened), to_hex(payload));
  }
}

void check_vector_file(const std::string& name, int* checked) {
  const std::string path = std::string(TROUPE_NOISE_VECTORS_DIR) + "/" + name;
  auto vectors = load_xx_vectors(path);
  ASSERT_TRUE(vectors.ok()) << vectors.error().to_string();
  for (const XxVector& vector : vectors->vectors) {
    run_vector(vector);
    if (::testing::Test::HasFatalFailure()) return;
    ++*checked;
  }
  std::cout << "[ vectors  ] " << name << ": " << *checked << " " << NoiseHandshake::kProtocolName
            << " vector(s) checked, " << vectors->psk_vectors_skipped << " with PSKs skipped\n";
}

TEST(NoiseVectors, Cacophony) {
  int checked = 0;
  check_vector_file("cacophony.txt", &checked);
  EXPECT_GE(checked, 1);
}

TEST(NoiseVectors, Snow) {
  int checked = 0;
  check_vector_file("snow.txt", &checked);
  EXPECT_GE(checked, 1);
}

// The loader refuses what would otherwise let the vector tests pass on nothing.
TEST(NoiseVectors, LoaderFailsOnMissingEmptyOrForeignFiles) {
  const std::string dir = ::testing::TempDir();
  auto missing = load_xx_vectors(dir + "/no-such-noise-vectors.txt");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, BaseErrc::kIo);

  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name, std::ios::binary | std::ios::trunc) << text;
    return dir + "/" + name;
  };
  auto not_json = load_xx_vectors(write("noise-not-json.txt", "{\"vectors\": ["));
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().code, BaseErrc::kInvalidArgument);

  auto none = load_xx_vectors(write(
      "noise-no-xx.txt", R"({"vectors": [{"protocol_name": "Noise_NN_25519_AESGCM_BLAKE2b"}]})"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, BaseErrc::kNotFound);

  auto broken = load_xx_vectors(write(
      "noise-broken-xx.txt",
      R"({"vectors": [{"protocol_name": "Noise_XX_25519_ChaChaPoly_BLAKE2b", "init_prologue": "zz"}]})"));
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().code, BaseErrc::kInvalidArgument);
}

}  // namespace
}  // namespace troupe::net
