// A minimal streaming JSON writer for the CLI's --json output: one object per line, keys in
// insertion order, strings escaped per RFC 8259 (UTF-8 passes through).
//
// Thread safety: a writer is used by one thread.
#ifndef SHIXIN_CLI_JSON_WRITER_H_
#define SHIXIN_CLI_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shixin {

class JsonWriter {
 public:
  // Structure. Each value inside an object must be preceded by Key().
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);

  // Values.
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();

  // Returns the text written so far.
  const std::string& str() const { return out_; }

 private:
  void Separate();

  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace shixin

#endif  // SHIXIN_CLI_JSON_WRITER_H_
