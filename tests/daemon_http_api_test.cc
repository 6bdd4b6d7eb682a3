// End-to-end tests of shixind's JSON API (issue 13; docs/openapi.yaml) over loopback, against a
// live daemon in callers mode: bearer tokens (missing, wrong, right), scopes, the masked view,
// max_batch, bodies that do not parse or have the wrong types or content type, the audit's
// receipt and a FEEDBACK round trip with it, the rate per caller; and GET /metrics scraped in a
// loop while RELOADs swap the list. Every wait is bounded.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "callers/callers_file.h"
#include "callers/token.h"
#include "core/masking.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"
#include "tests/daemon_harness.h"
#include "tests/http_socket.h"
#include "tests/test_callers.h"

namespace shixin::e2e {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr char kListed[] = "11010519491231002X";
constexpr char kRelated[] = "230402197203140038";  // 陈海波, through a listed organisation
constexpr char kRelatedName[] = "陈海波";

constexpr ScopeSet kQueries =
    ScopeBit(Scope::kCheck) | ScopeBit(Scope::kMeasures) | ScopeBit(Scope::kDetail);

// Returns `body` parsed, or a discarded value.
Json Parse(const std::string& body) { return Json::parse(body, nullptr, false); }

// Returns the error code of a JSON error body, or "" if it is not one.
std::string ErrorCode(const HttpResponse& r) {
  const Json j = Parse(r.body);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
  const auto code = j["error"].find("code");
  return code != j["error"].end() && code->is_string() ? code->get<std::string>() : "";
}

class DaemonHttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty());
    Add(MakeTestCaller("full", kQueries | ScopeBit(Scope::kFeedback), View::kFull, 1e4, 1000));
    Add(MakeTestCaller("masked", kQueries, View::kMasked, 1e4, 1000));
    Add(MakeTestCaller("checker", ScopeBit(Scope::kCheck), View::kFull, 1e4, 1000));
    Add(MakeTestCaller("slow", kQueries, View::kFull, 0.2, 2));
    absl::StatusOr<CallerTable> table = CallerTable::Create(callers_);
    ASSERT_TRUE(table.ok()) << table.status();
    ASSERT_TRUE(WriteCallersFile(scratch_.Path("callers.toml"), *table).ok());
  }

  void Add(Caller c) { ASSERT_TRUE(AddTestCaller(std::move(c), &callers_, &tokens_)); }

  // Starts shixind on `data_dir` with the callers file, an audit, max_batch 5 and `flags`.
  void StartDaemon(const std::string& data_dir = SampleDir(), std::vector<std::string> flags = {}) {
    for (const char* flag : {"--callers-file", "", "--state-dir", "", "--max-batch", "5"}) {
      flags.emplace_back(flag);
    }
    flags[flags.size() - 5] = scratch_.Path("callers.toml");
    flags[flags.size() - 3] = scratch_.Path("state");
    daemon_ = StartHttpDaemon(data_dir, flags);
    ASSERT_NE(daemon_, nullptr);
  }

  // POSTs `body` to `target` as caller `id` ("": no Authorization header).
  HttpResponse Post(const std::string& target, std::string_view body, const std::string& id,
                    const std::string& content_type = "application/json") {
    const std::string auth =
        id.empty() ? "" : absl::StrCat("Authorization: Bearer ", Token(id), "\r\n");
    std::optional<HttpResponse> r =
        HttpRoundTrip(*daemon_, HttpPost(target, body, content_type, auth), absl::Seconds(10));
    EXPECT_TRUE(r.has_value()) << target;
    return r.value_or(HttpResponse{});
  }

  std::string Token(const std::string& id) const {
    const auto it = tokens_.find(id);
    return it == tokens_.end() ? id : it->second;  // an unknown id is sent as the token itself
  }

  ScratchDir scratch_;
  std::vector<Caller> callers_;
  std::map<std::string, std::string> tokens_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(DaemonHttpApiTest, ABearerTokenIsAnsweredAndAMissingOrWrongOneIsNot) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string body = absl::StrFormat(R"({"ids":["%s"]})", kListed);
  HttpResponse ok = Post("/v1/check", body, "full");
  ASSERT_EQ(ok.status, 200) << ok.head << ok.body;
  const Json j = Parse(ok.body);
  ASSERT_TRUE(j.is_object()) << ok.body;
  ASSERT_TRUE(j["results"].is_array() && j["results"].size() == 1u) << ok.body;
  EXPECT_EQ(j["results"][0]["listed"], true) << ok.body;
  EXPECT_EQ(j["generation"], 1) << ok.body;

  HttpResponse missing = Post("/v1/check", body, "");
  EXPECT_EQ(missing.status, 401) << missing.head;
  EXPECT_EQ(ErrorCode(missing), "unauthenticated") << missing.body;
  EXPECT_THAT(missing.Header("WWW-Authenticate"), HasSubstr("Bearer")) << missing.head;

  HttpResponse wrong = Post("/v1/check", body, "not-a-token-of-anyone");
  EXPECT_EQ(wrong.status, 401) << wrong.head;
  EXPECT_EQ(ErrorCode(wrong), "unauthenticated") << wrong.body;
  EXPECT_THAT(wrong.Header("WWW-Authenticate"), HasSubstr("Bearer")) << wrong.head;
  // Logged as a refused HELLO is, without the token.
  EXPECT_TRUE(daemon_->WaitForStderr("HTTP POST /v1/check from 127.0.0.1:"))
      << daemon_->stderr_text();
  EXPECT_EQ(daemon_->stderr_text().find("not-a-token-of-anyone"), std::string::npos);
  // Both refusals are counted for the operator, though they name no caller.
  std::optional<HttpResponse> m = HttpRoundTrip(*daemon_, HttpGet("/metrics"));
  ASSERT_TRUE(m.has_value());
  EXPECT_THAT(m->body, HasSubstr("shixin_auth_refused_total{via=\"bearer\"} 2\n"));
  EXPECT_THAT(m->body, HasSubstr("shixin_auth_refused_total{via=\"hello\"} 0\n"));
}

// A request without credentials is refused from its header: the daemon neither says
// "100 Continue" nor takes in a body (up to max_payload) only to answer 401, and it closes the
// connection rather than read the body it did not want.
TEST_F(DaemonHttpApiTest, ARequestWithoutCredentialsIsRefusedBeforeItsBody) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  HttpSocket socket(daemon_->http_port());
  ASSERT_TRUE(socket.connected());
  ASSERT_TRUE(
      socket.Send("POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  "Content-Length: 1000000\r\nExpect: 100-continue\r\n\r\n"));
  std::optional<HttpResponse> r = socket.Read(absl::Seconds(3));
  ASSERT_TRUE(r.has_value()) << "no answer before the body: " << socket.buffered();
  EXPECT_EQ(r->status, 401) << r->head;
  EXPECT_EQ(ErrorCode(*r), "unauthenticated") << r->body;
  EXPECT_THAT(r->Header("Connection"), HasSubstr("close")) << r->head;
  EXPECT_TRUE(socket.WaitClose(absl::Seconds(5)));
  // Without Expect too: half the body sent, the answer is already there.
  HttpSocket plain(daemon_->http_port());
  ASSERT_TRUE(plain.connected());
  ASSERT_TRUE(plain.Send(
      absl::StrCat("POST /v1/measures HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: 100000\r\n\r\n",
                   std::string(1000, ' '))));
  r = plain.Read(absl::Seconds(3));
  ASSERT_TRUE(r.has_value()) << plain.buffered();
  EXPECT_EQ(r->status, 401) << r->head;
  // A request with credentials still gets its 100 Continue.
  HttpSocket authorised(daemon_->http_port());
  ASSERT_TRUE(authorised.Send(
      absl::StrCat("POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Authorization: Bearer ",
                   Token("full"),
                   "\r\nContent-Length: 30\r\n"
                   "Expect: 100-continue\r\n\r\n")));
  r = authorised.ReadHead(absl::Seconds(3));
  ASSERT_TRUE(r.has_value()) << authorised.buffered();
  EXPECT_EQ(r->status, 100) << r->head;
}

// HTTP clients without credentials (a /healthz poller, say) give way to a caller when the
// daemon is full, however often they poll.
TEST_F(DaemonHttpApiTest, ConnectionsWithoutCredentialsGiveWayWhenTheDaemonIsFull) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(SampleDir(), {"--max-connections", "3"}));
  std::vector<std::unique_ptr<HttpSocket>> pollers;
  for (int i = 0; i < 3; ++i) {
    pollers.push_back(std::make_unique<HttpSocket>(daemon_->http_port()));
    ASSERT_TRUE(pollers.back()->connected());
  }
  auto poll_all = [&] {
    for (const std::unique_ptr<HttpSocket>& p : pollers) {
      if (p->Send(HttpGet("/healthz"))) p->Read(absl::Seconds(2));
    }
  };
  for (int i = 0; i < 10; ++i) {
    poll_all();
    absl::SleepFor(absl::Milliseconds(50));
  }
  poll_all();
  const std::string body = absl::StrFormat(R"({"ids":["%s"]})", kListed);
  HttpResponse ok = Post("/v1/check", body, "full");
  EXPECT_EQ(ok.status, 200) << ok.head << ok.body;
}

// An idle keep-alive connection whose caller is removed from the callers file is closed on the
// reload, as a binary one is (x23 #7; docs/shixind.md "Reloading"); another caller's stays.
TEST_F(DaemonHttpApiTest, AKeepAliveConnectionOfARemovedCallerIsClosedOnReload) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string body = absl::StrFormat(R"({"ids":["%s"]})", kListed);
  HttpSocket removed(daemon_->http_port());
  HttpSocket kept(daemon_->http_port());
  for (const auto& [socket, id] : {std::pair{&removed, "checker"}, std::pair{&kept, "full"}}) {
    ASSERT_TRUE(socket->connected());
    const std::string auth = absl::StrCat("Authorization: Bearer ", Token(id), "\r\n");
    ASSERT_TRUE(socket->Send(HttpPost("/v1/check", body, "application/json", auth)));
    const std::optional<HttpResponse> r = socket->Read();
    ASSERT_TRUE(r.has_value()) << id;
    EXPECT_EQ(r->status, 200) << id << ": " << r->body;
  }
  std::erase_if(callers_, [](const Caller& c) { return c.id == "checker"; });
  absl::StatusOr<CallerTable> table = CallerTable::Create(callers_);
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_TRUE(WriteCallersFile(scratch_.Path("callers.toml"), *table).ok());
  ASSERT_TRUE(daemon_->Signal(SIGHUP).ok());
  ASSERT_TRUE(daemon_->WaitForStderr("SIGHUP: callers reloaded")) << daemon_->stderr_text();
  EXPECT_TRUE(removed.WaitClose(absl::Seconds(2))) << "still open after the reload";
  EXPECT_FALSE(kept.WaitClose(absl::Milliseconds(500))) << "a kept caller's connection closed";
}

// The JSON API answers a credit code about the organisation the sample lists by the old
// organisation code it embeds (230987613), with the ID asked as the answer's id.
TEST_F(DaemonHttpApiTest, ACreditCodeFindsTheOrganisationListedByItsOrgCode) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  HttpResponse r = Post("/v1/check", R"({"ids":["912304002309876133","230987613"]})", "full");
  ASSERT_EQ(r.status, 200) << r.head << r.body;
  const Json j = Parse(r.body);
  ASSERT_TRUE(j.is_object() && j["results"].is_array() && j["results"].size() == 2u) << r.body;
  EXPECT_EQ(j["results"][0]["id"], "912304002309876133") << r.body;
  EXPECT_EQ(j["results"][1]["id"], "230987613") << r.body;
  for (const Json& answer : j["results"]) {
    EXPECT_EQ(answer["listed"], true) << r.body;
    EXPECT_EQ(answer["name"], "鹤岗市龙腾煤业有限责任公司") << r.body;
  }
  HttpResponse m =
      Post("/v1/measures", R"({"id":"912304002309876133","scenario":"bank_credit"})", "full");
  ASSERT_EQ(m.status, 200) << m.head << m.body;
  EXPECT_THAT(m.body, HasSubstr(R"("no":52)"));
}

TEST_F(DaemonHttpApiTest, ACallerWithoutTheScopeIsDeniedWithAStableCode) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string body = absl::StrFormat(R"({"id":"%s"})", kListed);
  HttpResponse denied = Post("/v1/measures", body, "checker");
  EXPECT_EQ(denied.status, 403) << denied.head;
  EXPECT_EQ(ErrorCode(denied), "permission_denied") << denied.body;
  std::optional<HttpResponse> detail = HttpRoundTrip(
      *daemon_, HttpGet(absl::StrCat("/v1/subjects/", kListed),
                        absl::StrCat("Authorization: Bearer ", Token("checker"), "\r\n")));
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->status, 403) << detail->head;
  EXPECT_EQ(ErrorCode(*detail), "permission_denied") << detail->body;
  // The same request of a caller with the scope.
  EXPECT_EQ(Post("/v1/measures", body, "full").status, 200);
}

TEST_F(DaemonHttpApiTest, AMaskedCallersAnswerIsMasked) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string body = absl::StrFormat(R"({"ids":["%s"]})", kRelated);
  HttpResponse full = Post("/v1/check", body, "full");
  HttpResponse masked = Post("/v1/check", body, "masked");
  ASSERT_EQ(full.status, 200) << full.body;
  ASSERT_EQ(masked.status, 200) << masked.body;
  const Json f = Parse(full.body), m = Parse(masked.body);
  ASSERT_TRUE(f.is_object() && m.is_object());
  EXPECT_EQ(f["results"][0]["name"], kRelatedName) << full.body;
  EXPECT_EQ(m["results"][0]["name"], MaskName(kRelatedName)) << masked.body;
  EXPECT_NE(m["results"][0]["name"], f["results"][0]["name"]);
  EXPECT_EQ(m["results"][0]["id"], f["results"][0]["id"]);  // the subject's own ID stays whole
  EXPECT_EQ(masked.body.find(kRelatedName), std::string::npos) << masked.body;
}

TEST_F(DaemonHttpApiTest, BadBodiesAreRefusedWithTheirCodes) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  std::vector<std::string> ids(6, kListed);
  const std::string batch = Json{{"ids", ids}}.dump();
  HttpResponse over = Post("/v1/check", batch, "full");
  EXPECT_EQ(over.status, 400) << over.head;
  EXPECT_EQ(ErrorCode(over), "invalid_argument") << over.body;
  ids.resize(5);
  EXPECT_EQ(Post("/v1/check", Json{{"ids", ids}}.dump(), "full").status, 200);  // max_batch

  HttpResponse unparsed = Post("/v1/check", R"({"ids":["x")", "full");
  EXPECT_EQ(unparsed.status, 400) << unparsed.head;
  EXPECT_EQ(ErrorCode(unparsed), "bad_request") << unparsed.body;

  for (const char* wrong : {R"({"ids":"11010519491231002X"})", R"({"ids":[1,2]})", R"([1])",
                            R"({"ids":["11010519491231002X"],"matter":7})"}) {
    HttpResponse r = Post("/v1/check", wrong, "full");
    EXPECT_EQ(r.status, 400) << wrong << "\n" << r.head;
    EXPECT_EQ(ErrorCode(r), "invalid_argument") << wrong << "\n" << r.body;
  }
  HttpResponse no_id = Post("/v1/measures", R"({"id":5})", "full");
  EXPECT_EQ(no_id.status, 400) << no_id.head;
  EXPECT_EQ(ErrorCode(no_id), "invalid_argument") << no_id.body;

  HttpResponse text = Post("/v1/check", R"({"ids":[]})", "full", "text/plain");
  EXPECT_EQ(text.status, 415) << text.head;
  EXPECT_EQ(ErrorCode(text), "unsupported_media_type") << text.body;
}

// Error bodies stay JSON, and their messages text, whatever bytes the request held: what they
// quote of it is escaped as the binary protocol's messages are (FORMAT.md 6).
TEST_F(DaemonHttpApiTest, ErrorMessagesQuoteTheRequestEscaped) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const auto message = [&](const std::string& target, std::string_view body) {
    const HttpResponse r = Post(target, body, "full");
    EXPECT_EQ(r.status, 400) << r.body;
    const Json j = Parse(r.body);  // the parser refuses ill-formed UTF-8
    if (!j.is_object() || !j.contains("error")) {
      ADD_FAILURE() << r.body;
      return std::string();
    }
    std::string m = j["error"]["message"].get<std::string>();
    EXPECT_EQ(m.find("\xef\xbf\xbd"), std::string::npos) << m;  // nothing replaced by U+FFFD
    EXPECT_EQ(m.find('\x1b'), std::string::npos) << m;
    return m;
  };
  EXPECT_THAT(message("/v1/check", "{\"ids\":[\"\xff\xfe\"]}"),
              HasSubstr("ill-formed UTF-8 byte; last read: '\"\\xff'"));
  EXPECT_EQ(message("/v1/check", "{\"ids\":[\"a\"],\"\\u001b[31m\":1}"),
            "unknown field \"\\x1b[31m\"");
  EXPECT_EQ(
      message("/v1/measures", absl::StrFormat(R"({"id":"%s","agency":"\u001b[31mred"})", kListed)),
      "unknown agency \"\\x1b[31mred\"");
  EXPECT_EQ(message("/v1/feedback", R"({"receipt":"\u001b]0;pwn\u0007","applied":[4]})"),
            "receipt \"\\x1b]0;pwn\\x07\" is not of the form <node>-<32 hex digits> (or "
            "<node>-<segment>-<offset>)");
}

TEST_F(DaemonHttpApiTest, AnAnswerCarriesAReceiptThatFeedbackTakes) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  HttpResponse m = Post("/v1/measures", absl::StrFormat(R"({"id":"%s"})", kRelated), "full");
  ASSERT_EQ(m.status, 200) << m.body;
  const Json answer = Parse(m.body);
  ASSERT_TRUE(answer.is_object()) << m.body;
  ASSERT_TRUE(answer.contains("receipt") && answer["receipt"].is_string()) << m.body;
  const std::string receipt = answer["receipt"].get<std::string>();
  EXPECT_FALSE(receipt.empty());
  ASSERT_TRUE(answer["measures"].is_array() && !answer["measures"].empty()) << m.body;
  ASSERT_TRUE(answer["measures"][0]["no"].is_number_integer()) << m.body;
  const int measure = answer["measures"][0]["no"].get<int>();

  const Json feedback = {{"receipt", receipt}, {"operator", "op-17"}, {"applied", {measure}}};
  HttpResponse f = Post("/v1/feedback", feedback.dump(), "full");
  ASSERT_EQ(f.status, 200) << f.head << f.body;
  const Json recorded = Parse(f.body);
  ASSERT_TRUE(recorded.is_object()) << f.body;
  EXPECT_EQ(recorded["receipt"], receipt) << f.body;
  EXPECT_EQ(recorded["recorded"], 1) << f.body;
  ASSERT_TRUE(recorded["items"].is_array() && recorded["items"].size() == 1u) << f.body;
  EXPECT_EQ(recorded["items"][0]["measure"], measure) << f.body;
  EXPECT_EQ(recorded["items"][0]["outcome"], "applied") << f.body;
  EXPECT_TRUE(recorded.contains("feedback_receipt")) << f.body;

  // A receipt this server never gave is refused.
  const Json unknown = {{"receipt", "00000000-1-64"}, {"applied", {measure}}};
  HttpResponse u = Post("/v1/feedback", unknown.dump(), "full");
  EXPECT_GE(u.status, 400) << u.body;
  EXPECT_LT(u.status, 500) << u.body;
  // FEEDBACK needs its scope.
  EXPECT_EQ(Post("/v1/feedback", feedback.dump(), "masked").status, 403);
}

TEST_F(DaemonHttpApiTest, ACallerOverItsRateIsToldWhenToComeBack) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  const std::string body = absl::StrFormat(R"({"ids":["%s"]})", kListed);
  std::optional<HttpResponse> limited;
  for (int i = 0; i < 10 && !limited; ++i) {  // burst 2, 0.2/s: the third at the latest
    HttpResponse r = Post("/v1/check", body, "slow");
    if (r.status == 429) {
      limited = r;
    } else {
      EXPECT_EQ(r.status, 200) << r.body;
    }
  }
  ASSERT_TRUE(limited.has_value());
  EXPECT_EQ(ErrorCode(*limited), "rate_limited") << limited->body;
  int seconds = 0;
  EXPECT_TRUE(absl::SimpleAtoi(limited->Header("Retry-After"), &seconds)) << limited->head;
  EXPECT_GE(seconds, 1);
  EXPECT_LE(seconds, 10);
  // Another caller is not held back.
  EXPECT_EQ(Post("/v1/check", body, "full").status, 200);
}

// Returns "" if `text` is a Prometheus text exposition (0.0.4) line by line, else the first
// line that is not.
std::string BadExpositionLine(const std::string& text) {
  static const std::regex sample_line(
      R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? )"
      R"(([-+]?[0-9.eE+-]+|NaN|[+-]Inf)( -?[0-9]+)?$)");
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || absl::StartsWith(line, "# HELP ") || absl::StartsWith(line, "# TYPE ")) {
      continue;
    }
    if (!std::regex_match(line.begin(), line.end(), sample_line)) return std::string(line);
  }
  return "";
}

// Returns the value of the sample line `prefix` (name and labels) in `text`, or nullopt.
std::optional<double> SampleValue(const std::string& text, const std::string& prefix) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, prefix + " ")) continue;
    double v = 0;
    if (absl::SimpleAtod(line.substr(prefix.size() + 1), &v)) return v;
  }
  return std::nullopt;
}

TEST_F(DaemonHttpApiTest, ScrapesDuringReloadsAllSucceedAndFollowTheList) {
  const std::string dir = scratch_.Path("data");
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  ASSERT_TRUE(CopyDataDir(SampleDir(), dir).ok());
  const std::string debtors_path = dir + "/debtors.ndjson";
  absl::StatusOr<std::string> sample = ReadFile(debtors_path);
  ASSERT_TRUE(sample.ok()) << sample.status();
  ASSERT_NO_FATAL_FAILURE(StartDaemon(dir));

  // The API's requests are counted with their caller.
  ASSERT_EQ(Post("/v1/check", absl::StrFormat(R"({"ids":["%s"]})", kListed), "full").status, 200);

  std::atomic<bool> stop{false};
  std::atomic<int> scrapes{0};
  std::vector<std::string> failures;  // the scraper's
  std::thread scraper([&] {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (!stop.load() && absl::Now() < deadline) {
      std::optional<HttpResponse> r = HttpRoundTrip(*daemon_, HttpGet("/metrics"));
      if (!r.has_value()) {
        failures.push_back("no answer");
      } else if (r->status != 200) {
        failures.push_back(absl::StrCat("status ", r->status));
      } else if (std::string bad = BadExpositionLine(r->body); !bad.empty()) {
        failures.push_back("unparseable line: " + bad);
      }
      ++scrapes;
      absl::SleepFor(absl::Milliseconds(5));
    }
  });
  // Joined however the test leaves (a failed ASSERT returns early).
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Joiner() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } joiner{stop, scraper};

  std::string last_version;
  constexpr int kReloads = 4;
  for (int i = 1; i <= kReloads; ++i) {
    // Alternately the sample and the sample with one debtor renamed: a new version each time.
    const std::string text =
        i % 2 == 1 ? absl::StrReplaceAll(*sample, {{"张秀兰", "张秀英"}}) : *sample;
    ASSERT_TRUE(WriteFileAtomically(debtors_path, text).ok());
    const int scraped = scrapes.load();
    ASSERT_TRUE(daemon_->Signal(SIGHUP).ok());
    const double want = i + 1;
    // The gauges of a scrape after the reload show the new generation and a new version. The
    // next reload waits for a scrape of the scraper's since this one began (a slow machine may
    // reload faster than the scraper scrapes).
    std::optional<HttpResponse> m;
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    do {
      absl::SleepFor(absl::Milliseconds(20));
      m = HttpRoundTrip(*daemon_, HttpGet("/metrics"));
    } while (absl::Now() < deadline &&
             !(m.has_value() && SampleValue(m->body, "shixin_list_generation") == want &&
               scrapes.load() > scraped));
    ASSERT_TRUE(m.has_value());
    ASSERT_EQ(SampleValue(m->body, "shixin_list_generation"), want) << daemon_->stderr_text();
    EXPECT_EQ(SampleValue(m->body, "shixin_list_subjects"), 12.0);
    const size_t at = m->body.find("base_version=\"");
    ASSERT_NE(at, std::string::npos) << m->body;
    const std::string version = m->body.substr(at + 14, 16);
    EXPECT_NE(version, last_version);
    last_version = version;
    EXPECT_THAT(m->body, HasSubstr(absl::StrCat("generation=\"", i + 1, "\"")));
  }
  stop = true;
  scraper.join();
  EXPECT_TRUE(failures.empty()) << failures.size()
                                << " failed scrapes, the first: " << failures.front();
  EXPECT_GE(scrapes.load(), kReloads);

  std::optional<HttpResponse> m = HttpRoundTrip(*daemon_, HttpGet("/metrics"));
  ASSERT_TRUE(m.has_value());
  EXPECT_THAT(m->body, HasSubstr("shixin_reloads_total"));
  bool counted = false;
  for (absl::string_view line : absl::StrSplit(m->body, '\n')) {
    counted |= absl::StartsWith(line, "shixin_requests_total{") &&
               absl::StrContains(line, "caller=\"full\"") && !absl::EndsWith(line, " 0");
  }
  EXPECT_TRUE(counted) << m->body;
}

}  // namespace
}  // namespace shixin::e2e
