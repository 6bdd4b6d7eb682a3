#include "loadtest/redis_driver.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "core/id.h"
#include "core/validity.h"

namespace shixin::loadtest {
namespace {

void AppendBulk(std::string_view s, std::string* out) {
  out->push_back('$');
  out->append(std::to_string(s.size()));
  out->append("\r\n");
  out->append(s.data(), s.size());
  out->append("\r\n");
}

void AppendArrayHeader(size_t n, std::string* out) {
  out->push_back('*');
  out->append(std::to_string(n));
  out->append("\r\n");
}

// Reads a CRLF-terminated line at `at`; returns its end (the CR) or npos.
size_t LineEnd(std::string_view in, size_t at) {
  const size_t cr = in.find("\r\n", at);
  return cr;
}

// Parses one RESP2 reply at `*at`. A bulk string or integer gives one answer (non-nil / > 0:
// listed); an array gives one per element. Returns kNeedMore if incomplete.
ParseResult ParseReply(std::string_view in, size_t* at, ParsedResponse* out, bool nested) {
  if (*at >= in.size()) return ParseResult::kNeedMore;
  const size_t end = LineEnd(in, *at);
  if (end == std::string_view::npos) return ParseResult::kNeedMore;
  const char type = in[*at];
  const std::string_view text = in.substr(*at + 1, end - *at - 1);
  int64_t n = 0;
  switch (type) {
    case '+':
      *at = end + 2;
      return ParseResult::kComplete;
    case '-':
      out->ok = false;
      out->error = std::string(text);
      *at = end + 2;
      return ParseResult::kComplete;
    case ':':
      if (!absl::SimpleAtoi(absl::string_view(text.data(), text.size()), &n)) {
        return ParseResult::kMalformed;
      }
      out->answers.push_back(n > 0 ? Answer::kListed : Answer::kUnlisted);
      *at = end + 2;
      return ParseResult::kComplete;
    case '$':
      if (!absl::SimpleAtoi(absl::string_view(text.data(), text.size()), &n)) {
        return ParseResult::kMalformed;
      }
      if (n < 0) {
        out->answers.push_back(Answer::kUnlisted);
        *at = end + 2;
        return ParseResult::kComplete;
      }
      if (end + 2 + n + 2 > in.size()) return ParseResult::kNeedMore;
      out->answers.push_back(Answer::kListed);
      *at = end + 2 + n + 2;
      return ParseResult::kComplete;
    case '*': {
      if (nested || !absl::SimpleAtoi(absl::string_view(text.data(), text.size()), &n)) {
        return ParseResult::kMalformed;
      }
      *at = end + 2;
      for (int64_t i = 0; i < n; ++i) {
        const ParseResult r = ParseReply(in, at, out, true);
        if (r != ParseResult::kComplete) return r;
      }
      return ParseResult::kComplete;
    }
    default:
      return ParseResult::kMalformed;
  }
}

class RedisCodec : public Codec {
 public:
  absl::Status Handshake(int fd) override { return absl::OkStatus(); }
  void AppendCheck(uint32_t, const FixedId* const* ids, size_t n, std::string* out) override {
    AppendArrayHeader(n + 1, out);
    AppendBulk(n == 1 ? "EXISTS" : "MGET", out);
    for (size_t i = 0; i < n; ++i) AppendBulk(ids[i]->view(), out);
  }
  void AppendMeasures(uint32_t, const FixedId& id, std::string* out) override {
    AppendArrayHeader(2, out);
    AppendBulk("GET", out);
    AppendBulk(id.view(), out);
  }
  ParseResult Parse(std::string_view in, size_t* consumed, ParsedResponse* out) override {
    size_t at = 0;
    const ParseResult r = ParseReply(in, &at, out, false);
    if (r == ParseResult::kComplete) *consumed = at;
    if (r == ParseResult::kNeedMore) out->answers.clear();
    return r;
  }
  Answer Expected(IdClass cls) const override {
    return cls == IdClass::kHit ? Answer::kListed : Answer::kUnlisted;
  }
  bool uses_request_ids() const override { return false; }
};

// A blocking RESP connection for loading: commands are written in chunks and their replies
// read one chunk behind, so the pipe stays full.
class Pusher {
 public:
  static absl::StatusOr<Pusher> Open(const std::string& address) {
    absl::StatusOr<int> fd = ConnectTcp(address);
    if (!fd.ok()) return fd.status();
    return Pusher(*fd);
  }
  Pusher(Pusher&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ~Pusher() {
    if (fd_ >= 0) close(fd_);
  }

  // Queues one command; sends the chunk when it is full.
  absl::Status Add(const std::vector<std::string_view>& args) {
    AppendArrayHeader(args.size(), &chunk_);
    for (std::string_view a : args) AppendBulk(a, &chunk_);
    if (++chunk_commands_ >= 1000) return Send();
    return absl::OkStatus();
  }
  // Sends what is queued and reads every outstanding reply; returns the last reply's text.
  absl::StatusOr<std::string> Finish() {
    SHIXIN_RETURN_IF_ERROR(Send());
    return ReadReplies(unread_);
  }
  // One command, synchronously.
  absl::StatusOr<std::string> Command(const std::vector<std::string_view>& args) {
    SHIXIN_RETURN_IF_ERROR(Add(args));
    return Finish();
  }

 private:
  explicit Pusher(int fd) : fd_(fd) {}

  absl::Status Send() {
    const uint64_t behind = unread_;
    size_t off = 0;
    while (off < chunk_.size()) {
      const ssize_t w = send(fd_, chunk_.data() + off, chunk_.size() - off, MSG_NOSIGNAL);
      if (w <= 0) {
        if (w < 0 && errno == EINTR) continue;
        return absl::UnavailableError(absl::StrFormat("redis write: %s", std::strerror(errno)));
      }
      off += w;
    }
    chunk_.clear();
    unread_ += chunk_commands_;
    chunk_commands_ = 0;
    // Read the previous chunk's replies while Redis works on this one.
    if (behind > 0) {
      absl::StatusOr<std::string> r = ReadReplies(behind);
      if (!r.ok()) return r.status();
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> ReadReplies(uint64_t n) {
    std::string last;
    char buf[65536];
    while (n > 0) {
      size_t at = 0;
      ParsedResponse r;
      const ParseResult pr = ParseReply(in_, &at, &r, false);
      if (pr == ParseResult::kMalformed) return absl::InternalError("redis: malformed reply");
      if (pr == ParseResult::kComplete) {
        if (!r.ok) return absl::InternalError(absl::StrFormat("redis: %s", r.error));
        last = in_.substr(0, at);
        in_.erase(0, at);
        --n;
        --unread_;
        continue;
      }
      const ssize_t got = recv(fd_, buf, sizeof(buf), 0);
      if (got <= 0) return absl::UnavailableError("redis: connection closed");
      in_.append(buf, got);
    }
    return last;
  }

  int fd_;
  std::string chunk_;
  uint64_t chunk_commands_ = 0;
  uint64_t unread_ = 0;
  std::string in_;
};

// Streams every subject of `data_dir` with a case that counts now into the current database of
// `p`.
absl::StatusOr<uint64_t> PushAll(const std::string& data_dir, Pusher* p) {
  uint64_t keys = 0;
  absl::Status error;
  std::string current;  // the normalised ID of the run of cases being read
  std::string value;
  int cases = 0;
  auto flush = [&] {
    if (current.empty() || !error.ok()) return;
    error = p->Add({"SET", current, value});
    ++keys;
  };
  const int64_t now = NowSeconds();
  absl::Status s = ForEachLine(data_dir + "/debtors.ndjson", [&](std::string_view line) {
    absl::StatusOr<Id> id = ParseId(FieldValue(line, "\"cardNum\":\""));
    if (!id.ok() || !CaseCountsAt(line, now)) return;  // as the workload expects (and shixind)
    if (id->text() != current) {
      flush();
      current = std::string(id->text());
      cases = 0;
    }
    ++cases;
    value = absl::StrFormat(R"({"name":"%s","kind":"%s","cases":%d,"case":"%s","court":"%s"})",
                            FieldValue(line, "\"iname\":\""),
                            id->subject_kind() == SubjectKind::kPerson ? "person" : "organization",
                            cases, FieldValue(line, "\"caseCode\":\""),
                            FieldValue(line, "\"courtName\":\""));
  });
  flush();
  if (!s.ok()) return s;
  if (!error.ok()) return error;
  absl::StatusOr<std::string> last = p->Finish();
  if (!last.ok()) return last.status();
  return keys;
}

}  // namespace

std::unique_ptr<Codec> MakeRedisCodec() { return std::make_unique<RedisCodec>(); }

absl::StatusOr<RedisLoadStats> RedisLoad(const std::string& address, const std::string& data_dir) {
  absl::StatusOr<Pusher> p = Pusher::Open(address);
  if (!p.ok()) return p.status();
  RedisLoadStats stats;
  const int64_t start = NowNs();
  absl::StatusOr<uint64_t> keys = PushAll(data_dir, &*p);
  if (!keys.ok()) return keys.status();
  stats.keys = *keys;
  stats.seconds = (NowNs() - start) / 1e9;
  absl::StatusOr<std::string> info = p->Command({"INFO", "memory"});
  if (info.ok()) {
    const size_t at = info->find("used_memory:");
    if (at != std::string::npos) {
      const size_t end = info->find("\r\n", at);
      // A value that does not parse leaves the memory unknown (0), as when INFO fails.
      if (!absl::SimpleAtoi(info->substr(at + 12, end - at - 12), &stats.used_memory)) {
        stats.used_memory = 0;
      }
    }
  }
  return stats;
}

absl::Status RedisReplace(const std::string& address, const std::string& data_dir,
                          RedisRefresh mode, SwapTracker* swaps) {
  absl::StatusOr<Pusher> p = Pusher::Open(address);
  if (!p.ok()) return p.status();
  swaps->Begin();
  absl::Status s;
  auto step = [&](const std::vector<std::string_view>& args) {
    if (s.ok()) s = p->Command(args).status();
  };
  if (mode == RedisRefresh::kSwapDb) {
    step({"SELECT", "1"});
    step({"FLUSHDB"});
    if (s.ok()) s = PushAll(data_dir, &*p).status();
    step({"SWAPDB", "0", "1"});
    step({"FLUSHDB", "ASYNC"});  // db 1 now holds the old data
  } else {
    step({"FLUSHALL", "ASYNC"});
    if (s.ok()) s = PushAll(data_dir, &*p).status();
  }
  swaps->End(s.ok(), s.ok() ? "replaced" : std::string(s.message()));
  return s;
}

}  // namespace shixin::loadtest
