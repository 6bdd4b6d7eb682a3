// The fixture of the test vectors (protocol/testdata/vectors.txt) shared by vectors_test.cc and
// vectors_v4_test.cc: loading the vectors, reading one as a frame, building a frame.
//
// Thread safety: test code, one thread.
#ifndef SHIXIN_PROTOCOL_VECTORS_FIXTURE_H_
#define SHIXIN_PROTOCOL_VECTORS_FIXTURE_H_

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "protocol/wire.h"

namespace shixin::wire {

// Returns the vectors by name (empty if SHIXIN_SOURCE_DIR is not set).
inline std::map<std::string, std::string> LoadVectors() {
  std::map<std::string, std::string> vectors;
  const char* dir = std::getenv("SHIXIN_SOURCE_DIR");
  if (dir == nullptr) return vectors;
  std::ifstream in(std::string(dir) + "/protocol/testdata/vectors.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    std::string bytes, hex;
    for (char c : line.substr(colon + 1)) {
      if (c != ' ') hex.push_back(c);
    }
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
      bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    vectors[line.substr(0, colon)] = bytes;
  }
  return vectors;
}

// Tests that read the vectors.
class VectorsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { vectors_ = new std::map<std::string, std::string>(LoadVectors()); }
  static void TearDownTestSuite() { delete vectors_; }

  void SetUp() override {
    ASSERT_NE(std::getenv("SHIXIN_SOURCE_DIR"), nullptr) << "SHIXIN_SOURCE_DIR is not set";
    ASSERT_GE(vectors_->size(), 33u) << "protocol/testdata/vectors.txt not found or incomplete";
  }

  // Returns the vector `name`, checking that it is one whole frame.
  static std::string Vector(const std::string& name) {
    auto it = vectors_->find(name);
    EXPECT_NE(it, vectors_->end()) << name;
    return it == vectors_->end() ? "" : it->second;
  }

  // Decodes the vector `name` as a frame of a connection of `version`; returns its payload.
  static std::string_view Payload(const std::string& name, FrameHeader* header = nullptr,
                                  uint8_t version = kVersion) {
    auto it = vectors_->find(name);
    if (it == vectors_->end()) return {};
    Decoded d = DecodeFrame(it->second, kMaxPayloadLimit, version);
    EXPECT_EQ(d.result, DecodeResult::kComplete) << name;
    EXPECT_EQ(d.consumed, it->second.size()) << name;
    if (header != nullptr) *header = d.header;
    return d.payload;
  }

  static inline std::map<std::string, std::string>* vectors_ = nullptr;
};

// Returns the whole frame of `payload` with a header of these fields.
inline std::string Frame(Opcode op, uint32_t id, std::string_view payload, uint16_t flags = 0,
                         uint32_t generation = 0, Status status = Status::kOk,
                         uint8_t version = kVersion) {
  FrameHeader h;
  h.version = version;
  h.opcode = static_cast<uint8_t>(op);
  h.flags = flags;
  h.status = static_cast<uint16_t>(status);
  h.request_id = id;
  h.generation = generation;
  h.payload_size = static_cast<uint32_t>(payload.size());
  std::string out;
  AppendHeader(h, &out);
  out.append(payload);
  return out;
}

constexpr uint16_t kResp = kFlagResponse;

}  // namespace shixin::wire

#endif  // SHIXIN_PROTOCOL_VECTORS_FIXTURE_H_
