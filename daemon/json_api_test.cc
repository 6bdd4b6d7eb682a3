#include "daemon/json_api.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "audit/audit_test_util.h"
#include "callers/callers_file.h"
#include "callers/token.h"
#include "core/masking.h"
#include "core/paths.h"
#include "daemon/auditor.h"
#include "daemon/config.h"
#include "daemon/handler.h"
#include "daemon/handler_test_util.h"
#include "daemon/log.h"
#include "daemon/reloader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shixin {
namespace {

using handler_testing::Sample;
using handler_testing::SourceDir;
using Json = nlohmann::json;

constexpr char kListed[] = "11010519491231002X";   // 张秀兰, two cases
constexpr char kRelated[] = "230402197203140038";  // 陈海波, LR of a listed organisation
constexpr char kUnlisted[] = "230402199001010015";
constexpr char kUnlistedOrg[] = "912304216987123405";  // its director is listed
constexpr char kListedDirector[] = "230402198503150611";
constexpr char kInvalid[] = "110105194912310021";  // bad check character

// A reply's body, parsed (discarded if it is not JSON).
Json BodyOf(const HttpReply& reply) { return Json::parse(reply.body, nullptr, false); }

// Returns the value of header `name` of `reply`, or "".
std::string HeaderOf(const HttpReply& reply, std::string_view name) {
  for (const auto& [key, value] : reply.headers) {
    if (key == name) return value;
  }
  return "";
}

// The JSON API over a handler on the sample list: in open mode, or (WithCallers) with a
// callers file of a full caller, a masked one, one without the detail scope, a tight one, and
// (WithAudit) an audit.
class JsonApiTest : public ::testing::Test {
 protected:
  JsonApiTest() {
    config_.max_batch = 5;
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("json_api_test.", ::getpid(), ".", reinterpret_cast<uintptr_t>(this));
    std::filesystem::create_directories(dir_);
    holder_.Publish(Sample());
  }
  ~JsonApiTest() override { std::filesystem::remove_all(dir_); }

  void Start() {
    handler_ = std::make_unique<Handler>(
        config_, &holder_, [] { return NowSeconds(); }, nullptr, access_.get(), auditor_.get());
    api_ = std::make_unique<JsonApi>(handler_.get(), access_.get());
  }

  void WithCallers() {
    std::vector<Caller> callers;
    callers.push_back(MakeCaller("full", kAllScopes, View::kFull, 1000, 1000));
    callers.push_back(MakeCaller("masked", kAllScopes, View::kMasked, 1000, 1000));
    callers.push_back(MakeCaller("checker", ScopeBit(Scope::kCheck), View::kFull, 1000, 1000));
    callers.push_back(MakeCaller("tight", ScopeBit(Scope::kCheck), View::kFull, 0.01, 2));
    absl::StatusOr<CallerTable> table = CallerTable::Create(std::move(callers));
    ASSERT_TRUE(table.ok()) << table.status();
    const std::string path = (dir_ / "callers.toml").string();
    ASSERT_TRUE(WriteCallersFile(path, *table).ok());
    absl::StatusOr<std::unique_ptr<Access>> access = Access::FromFile(path, Sample()->catalog);
    ASSERT_TRUE(access.ok()) << access.status();
    access_ = *std::move(access);
  }

  // An audit whose writes fail while ops_.error is set.
  void WithAudit() {
    config_.state_dir = (dir_ / "state").string();
    config_.calendar_dir = SourceDir() + "/data/calendar";
    audit::AuditLog::Options options;
    options.file_ops = &ops_;
    absl::StatusOr<std::unique_ptr<Auditor>> auditor = Auditor::Open(config_, options, nullptr);
    ASSERT_TRUE(auditor.ok()) << auditor.status();
    auditor_ = *std::move(auditor);
  }

  // A caller `id` with `scopes`, `view`, `rate` and `burst`, and a fresh token (tokens_).
  Caller MakeCaller(std::string id, ScopeSet scopes, View view, double rate, uint32_t burst) {
    const std::string name = id;
    return handler_testing::MakeCaller(std::move(id), scopes, view, rate, burst, &tokens_[name]);
  }

  // Serves `method` `target` with `body` as `caller` (its bearer token; "" none).
  HttpReply Serve(std::string_view method, std::string_view target, std::string_view body = "",
                  const std::string& caller = "",
                  std::string_view content_type = "application/json") {
    const std::string authorization = caller.empty() ? "" : "Bearer " + tokens_[caller];
    return ServeRaw(method, target, body, authorization, content_type);
  }
  HttpReply ServeRaw(std::string_view method, std::string_view target, std::string_view body,
                     std::string_view authorization,
                     std::string_view content_type = "application/json") {
    HttpRequest request;
    request.method = method;
    request.target = target;
    request.authorization = authorization;
    request.content_type = content_type;
    request.body = body;
    request.peer = &peer_;
    return api_->Serve(request);
  }

  RcuThread rcu_;
  audit::testing::FaultyOps ops_;
  Config config_;
  std::filesystem::path dir_;
  SnapshotHolder holder_;
  std::unique_ptr<Access> access_;
  std::unique_ptr<Auditor> auditor_;
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<JsonApi> api_;
  std::map<std::string, std::string> tokens_;
  Peer peer_{"192.0.2.7:4711", false, boost::asio::ip::make_address("192.0.2.7")};
};

TEST_F(JsonApiTest, CheckAnswersEachIdAsTheCliJsonDoes) {
  Start();
  const std::string body = absl::StrCat("{\"ids\":[\"", kListed, "\",\"", kUnlisted, "\",\"",
                                        kInvalid, "\",\"", kRelated, "\"]}");
  const HttpReply reply = Serve("POST", "/v1/check", body);
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_EQ(reply.content_type, "application/json");
  const Json j = BodyOf(reply);
  ASSERT_TRUE(j.is_object()) << reply.body;
  ASSERT_EQ(j["results"].size(), 4u);
  EXPECT_EQ(j["results"][0]["id"], kListed);
  EXPECT_EQ(j["results"][0]["listed"], true);
  EXPECT_EQ(j["results"][0]["name"], "张秀兰");
  EXPECT_EQ(j["results"][1]["listed"], false);
  EXPECT_EQ(j["results"][1]["related"], false);
  EXPECT_EQ(j["results"][2]["input"], kInvalid);
  EXPECT_TRUE(j["results"][2]["error"].is_string());
  EXPECT_EQ(j["results"][3]["related"], true);
  EXPECT_FALSE(j["results"][0].contains("receipt"));  // no audit
  EXPECT_EQ(j["generation"], holder_.generation());
  EXPECT_EQ(j["stale"], false);
  ASSERT_TRUE(j["version"].is_string());
  EXPECT_EQ(j["version"].get<std::string>().size(), 16u);
}

// Finding x28/9: the generation is per process, so every answer carries the list's position
// (INFO's source time and last delta), which a JSON caller compares across replicas.
TEST_F(JsonApiTest, AnswersCarryTheListPosition) {
  std::unique_ptr<Dataset> d = Sample(1780452000);  // 2026-06-03T10:00:00+08:00
  d->sequence = 5;                                  // deltas applied up to 5
  holder_.Publish(std::move(d));
  Start();
  for (const auto& [method, target, body] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"POST", "/v1/check", absl::StrCat("{\"ids\":[\"", kListed, "\"]}")},
           {"POST", "/v1/measures", absl::StrCat("{\"id\":\"", kRelated, "\"}")},
           {"GET", absl::StrCat("/v1/subjects/", kListed), ""}}) {
    const HttpReply reply = Serve(method, target, body);
    ASSERT_EQ(reply.status, 200u) << target << ": " << reply.body;
    const Json j = BodyOf(reply);
    EXPECT_EQ(j["source_time"], "2026-06-03T10:00:00+08:00") << target << ": " << reply.body;
    EXPECT_EQ(j["delta_sequence"], 5) << target << ": " << reply.body;
    EXPECT_EQ(j["generation"], 2) << target;
  }
}

TEST_F(JsonApiTest, MeasuresAndSubjectAnswerAsTheCli) {
  Start();
  HttpReply reply =
      Serve("POST", "/v1/measures", absl::StrCat("{\"id\":\"", kRelated, "\",\"asOf\":null}"));
  EXPECT_EQ(reply.status, 400u) << reply.body;  // asOf must be a string
  reply = Serve("POST", "/v1/measures", absl::StrCat("{\"id\":\"", kRelated, "\"}"));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  Json j = BodyOf(reply);
  EXPECT_EQ(j["related"], true);
  std::vector<int> numbers;
  for (const Json& m : j["measures"]) numbers.push_back(m["no"].get<int>());
  EXPECT_EQ(numbers, (std::vector<int>{26, 27, 29, 41, 46, 52}));
  EXPECT_EQ(j["generation"], holder_.generation());

  reply = Serve("POST", "/v1/measures",
                absl::StrCat("{\"id\":\"", kRelated, "\",\"scenario\":\"no-such-scenario\"}"));
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "invalid_argument");

  reply = Serve("GET", absl::StrCat("/v1/subjects/", kListed));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  j = BodyOf(reply);
  EXPECT_EQ(j["name"], "张秀兰");
  EXPECT_EQ(j["cases"].size(), 2u);

  reply = Serve("GET", absl::StrCat("/v1/subjects/", kListed, "?asOf=1999-01-01T00%3A00%3A00Z"));
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "out_of_range");
  // The epoch's instant is the wire's "now": refused, not answered for now.
  reply = Serve("GET", absl::StrCat("/v1/subjects/", kListed, "?asOf=1970-01-01T00:00:00Z"));
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "out_of_range");
  reply = Serve("POST", "/v1/check",
                absl::StrCat(R"({"ids":[")", kListed, R"("],"asOf":"1970-01-01T08:00:00+08:00"})"));
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "out_of_range");
  reply = Serve("GET", absl::StrCat("/v1/subjects/", kListed, "?asOf=yesterday"));
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "invalid_argument");
  reply = Serve("GET", absl::StrCat("/v1/subjects/", kInvalid));
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "invalid_id");
}

// A query or body asOf that is misspelled, empty or repeated is refused, not answered for now
// (nothing in the answer says which instant it is for); parameter names are percent-decoded.
TEST_F(JsonApiTest, AnAsOfThatIsNotOneInstantIsRefused) {
  Start();
  const auto error = [&](std::string_view method, std::string_view target,
                         std::string_view body = "") {
    const HttpReply reply = Serve(method, target, body);
    const Json j = BodyOf(reply);
    return absl::StrCat(reply.status, " ",
                        j.contains("error") ? j["error"]["code"].get<std::string>() + ": " +
                                                  j["error"]["message"].get<std::string>()
                                            : "ok");
  };
  const std::string subject = absl::StrCat("/v1/subjects/", kListed);
  EXPECT_EQ(error("GET", subject + "?asof=2026-11-02T12:00:00Z"),
            "400 invalid_argument: unknown query parameter \"asof\"; the only one is asOf");
  EXPECT_EQ(error("GET", subject + "?as_of=2026-11-02T12:00:00Z"),
            "400 invalid_argument: unknown query parameter \"as_of\"; the only one is asOf");
  EXPECT_EQ(error("GET", subject + "?asOf=2026-11-02T12:00:00Z&x"),
            "400 invalid_argument: unknown query parameter \"x\"; the only one is asOf");
  // Decoded, "%61sOf" is asOf: here out of the history window.
  EXPECT_EQ(error("GET", subject + "?%61sOf=1999-01-01T00:00:00Z").substr(0, 16),
            "400 out_of_range");
  EXPECT_EQ(error("GET", subject + "?asOf="),
            "400 invalid_argument: asOf is empty: send an RFC 3339 instant, or leave asOf out "
            "for now");
  EXPECT_EQ(error("GET", subject + "?asOf"),
            "400 invalid_argument: asOf is empty: send an RFC 3339 instant, or leave asOf out "
            "for now");
  EXPECT_EQ(error("GET", subject + "?asOf=2026-12-01T00:00:00Z&asOf=2026-11-02T12:00:00Z"),
            "400 invalid_argument: asOf is given twice");
  EXPECT_EQ(error("GET", subject + "?"), "200 ok");
  EXPECT_EQ(error("GET", subject + "?&"), "200 ok");
  const std::string ids = absl::StrCat("{\"ids\":[\"", kListed, "\"]");
  EXPECT_EQ(error("POST", "/v1/check", ids + ",\"asOf\":\"\"}"),
            "400 invalid_argument: asOf is empty: send an RFC 3339 instant, or leave asOf out "
            "for now");
  EXPECT_EQ(error("POST", "/v1/measures", absl::StrCat("{\"id\":\"", kListed, "\",\"asOf\":\"\"}"))
                .substr(0, 31),
            "400 invalid_argument: asOf is e");
  EXPECT_EQ(error("POST", "/v1/check", ids + "}"), "200 ok");
  // The POST endpoints take no query parameter: an asOf there was answered for now.
  EXPECT_EQ(error("POST", "/v1/check?asOf=2026-11-02T12:00:00Z", ids + "}"),
            "400 invalid_argument: unknown query parameter \"asOf\": POST /v1/check takes no "
            "query parameters; send its fields (asOf too) in the JSON body");
  EXPECT_EQ(error("POST", "/v1/measures?x=1&asOf=", absl::StrCat("{\"id\":\"", kListed, "\"}")),
            "400 invalid_argument: unknown query parameter \"x\": POST /v1/measures takes no "
            "query parameters; send its fields (asOf too) in the JSON body");
  EXPECT_THAT(error("POST", "/v1/feedback?%61sOf", "{}"),
              ::testing::StartsWith("400 invalid_argument: unknown query parameter \"asOf\": "
                                    "POST /v1/feedback takes no query parameters"));
  EXPECT_EQ(error("POST", "/v1/check?", ids + "}"), "200 ok");
  EXPECT_EQ(error("POST", "/v1/check?&", ids + "}"), "200 ok");
}

TEST_F(JsonApiTest, RoutesRefuseUnknownPathsAndMethods) {
  Start();
  HttpReply reply = Serve("GET", "/v1/nothing");
  EXPECT_EQ(reply.status, 404u);
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "not_found_path");
  reply = Serve("GET", "/v1/check");
  EXPECT_EQ(reply.status, 405u);
  EXPECT_EQ(HeaderOf(reply, "Allow"), "POST");
  reply = Serve("POST", absl::StrCat("/v1/subjects/", kListed), "{}");
  EXPECT_EQ(reply.status, 405u);
  EXPECT_EQ(HeaderOf(reply, "Allow"), "GET, HEAD");
  // HEAD is GET (the listener drops the body).
  EXPECT_EQ(Serve("HEAD", absl::StrCat("/v1/subjects/", kListed)).body,
            Serve("GET", absl::StrCat("/v1/subjects/", kListed)).body);
}

TEST_F(JsonApiTest, BadBodiesAreRefusedPrecisely) {
  Start();
  const auto error = [&](std::string_view body, std::string_view type = "application/json") {
    const HttpReply reply = Serve("POST", "/v1/check", body, "", type);
    const Json j = BodyOf(reply);
    return std::pair<unsigned, std::string>(
        reply.status, j.contains("error") ? j["error"]["code"].get<std::string>() + ": " +
                                                j["error"]["message"].get<std::string>()
                                          : reply.body);
  };
  EXPECT_EQ(error("{\"ids\":[", "application/json").first, 400u);
  // The parser's diagnostic: where, and why.
  EXPECT_EQ(error("{\"ids\":[").second,
            "bad_request: the body is not valid JSON: at line 1, column 9: syntax error while "
            "parsing value - unexpected end of input; expected '[', '{', or a literal");
  EXPECT_EQ(error("", "application/json").second,
            "bad_request: the body is not valid JSON: at line 1, column 1: syntax error while "
            "parsing value - unexpected end of input; expected '[', '{', or a literal");
  EXPECT_THAT(error("{\"ids\":[\"a\"]} xx").second,
              ::testing::StartsWith("bad_request: the body is not valid JSON: at line 1, column "
                                    "15: syntax error while parsing value - invalid literal"));
  EXPECT_THAT(error("{\"ids\":[\"\xff\xfe\"]}").second,
              ::testing::HasSubstr("at line 1, column 10: syntax error while parsing value - "
                                   "invalid string: ill-formed UTF-8 byte"));
  EXPECT_THAT(error("{\"ids\":[\"\\ud800\"]}").second,
              ::testing::HasSubstr("surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF"));
  // 1e400 is JSON, but no double holds it: refused as such, not as "not JSON" alone.
  EXPECT_EQ(error("{\"ids\":[\"a\"],\n\"x\":1e400}").second,
            "bad_request: the body is not valid JSON: at line 2, column 5: number overflow parsing "
            "'1e400'");
  EXPECT_EQ(
      error("{\"ids\":[\"a\"],\"x\":[-1e400]}").second,
      "bad_request: the body is not valid JSON: at line 1, column 19: number overflow parsing "
      "'-1e400'");
  // A charset but UTF-8 is refused with the media type, not read as UTF-8.
  EXPECT_EQ(error("{\"ids\":[\"a\"]}", "application/json; charset=iso-8859-1").first, 415u);
  EXPECT_EQ(error("{\"ids\":[\"a\"]}", "application/json;charset=\"latin1\"").second,
            "unsupported_media_type: the body must be UTF-8, not charset \"latin1\"");
  EXPECT_EQ(error("{\"ids\":[]}", "text/plain").first, 415u);
  EXPECT_EQ(error("{\"ids\":[\"x\"]}", "").first, 415u);
  EXPECT_EQ(error("{\"ids\":[\"" + std::string(kListed) + "\"]}", "Application/JSON; charset=utf-8")
                .first,
            200u);
  EXPECT_EQ(error("{\"ids\":[\"" + std::string(kListed) + "\"],\"ids\":[\"a\"]}").second,
            "bad_request: the body names field \"ids\" twice");
  EXPECT_EQ(error("{\"a\":{\"k\":1,\"k\":2},\"ids\":[]}").second,
            "bad_request: the body names field \"k\" twice");
  // The same name in two objects is no duplicate.
  EXPECT_EQ(error("{\"x\":{\"ids\":1},\"ids\":[\"a\"]}").second,
            "invalid_argument: unknown field \"x\"");
  EXPECT_EQ(error("[1]").second, "invalid_argument: the body must be a JSON object, not array");
  EXPECT_EQ(error("{}").second, "invalid_argument: missing field \"ids\"");
  EXPECT_EQ(error("{\"ids\":\"x\"}").second,
            "invalid_argument: ids: expected an array of strings, got string");
  EXPECT_EQ(error("{\"ids\":[1]}").second,
            "invalid_argument: ids[0]: expected a string, got number");
  EXPECT_EQ(error("{\"ids\":[\"a\"],\"extra\":1}").second,
            "invalid_argument: unknown field \"extra\"");
  EXPECT_EQ(error("{\"ids\":[\"a\"],\"matter\":\"" + std::string(65, 'm') + "\"}").second,
            "invalid_argument: matter: 65 bytes exceed the limit of 64");
  // Over the server's max_batch (5): the handler's own refusal.
  EXPECT_EQ(error("{\"ids\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]}").second,
            "invalid_argument: CHECK of 6 IDs: send 1 to 5");
  EXPECT_EQ(error("{\"ids\":[]}").first, 400u);
}

// Error messages quote the request's text escaped, as the binary protocol's do: UTF-8 without
// controls, so the body is JSON whose message a strict reader takes and a terminal shows as is.
TEST_F(JsonApiTest, ErrorMessagesQuoteTheRequestEscaped) {
  WithAudit();  // FEEDBACK reads the receipt
  Start();
  const auto message = [&](std::string_view method, std::string_view target,
                           std::string_view body = "") {
    const HttpReply reply = Serve(method, target, body);
    EXPECT_GE(reply.status, 400u);
    const Json j = BodyOf(reply);  // the parser refuses ill-formed UTF-8
    EXPECT_FALSE(j.is_discarded()) << reply.body;
    if (j.is_discarded()) return std::string();
    std::string m = j["error"]["message"].get<std::string>();
    EXPECT_EQ(m.find("\xef\xbf\xbd"), std::string::npos) << m;  // nothing replaced by U+FFFD
    EXPECT_EQ(m.find('\x1b'), std::string::npos) << m;
    return m;
  };
  EXPECT_THAT(message("POST", "/v1/check", "{\"ids\":[\"\xff\xfe\"]}"),
              ::testing::HasSubstr("ill-formed UTF-8 byte; last read: '\"\\xff'"));
  EXPECT_EQ(message("POST", "/v1/check", "{\"ids\":[\"a\"],\"\\u001b[31mx\":1}"),
            "unknown field \"\\x1b[31mx\"");
  EXPECT_EQ(message("POST", "/v1/measures",
                    absl::StrCat("{\"id\":\"", kListed, "\",\"agency\":\"\\u001b[31mred\"}")),
            "unknown agency \"\\x1b[31mred\"");
  EXPECT_EQ(message("POST", "/v1/measures",
                    absl::StrCat("{\"id\":\"", kListed, "\",\"scenario\":\"\\u009b2J\\\"\"}")),
            "unknown scenario \"\\u009b2J\\\"\"");
  EXPECT_EQ(message("GET", absl::StrCat("/v1/subjects/", kListed, "?%FF%1B=1")),
            "unknown query parameter \"\\xff\\x1b\"; the only one is asOf");
  EXPECT_EQ(message("GET", "/v1/subjects/%FF%FE"),
            "bad character: invalid UTF-8 byte 0xFF at position 1");
  EXPECT_EQ(message("GET", "/v1/\xff\x1b[2J"),
            "no such endpoint: /v1/\\xff\\x1b[2J (see docs/openapi.yaml)");
  EXPECT_EQ(
      message("POST", "/v1/feedback", "{\"receipt\":\"\\u001b]0;pwn\\u0007\",\"applied\":[1]}"),
      "receipt \"\\x1b]0;pwn\\x07\" is not of the form <node>-<32 hex digits> (or "
      "<node>-<segment>-<offset>)");
}

// Requests refused before they reach an operation (which counts in shixin_requests_total)
// are counted by code: shixin_http_refused_total.
TEST_F(JsonApiTest, RefusalsBeforeAnOperationAreCounted) {
  Start();
  const auto count = [](std::string_view code) {
    for (size_t i = 0; i < kHttpRefusalCodes.size(); ++i) {
      if (kHttpRefusalCodes[i] == code) return HttpRefusals(i);
    }
    return uint64_t{0};
  };
  const uint64_t bad = count("bad_request");
  const uint64_t media = count("unsupported_media_type");
  const uint64_t invalid = count("invalid_argument");
  const uint64_t path = count("not_found_path");
  const uint64_t method = count("method_not_allowed");
  EXPECT_EQ(Serve("POST", "/v1/check", "{\"ids\":[").status, 400u);
  EXPECT_EQ(Serve("POST", "/v1/check", "{\"ids\":[\"1\"]}", "", "").status, 415u);
  EXPECT_EQ(Serve("POST", "/v1/check", "{\"ids\":[\"1\"],\"x\":1}").status, 400u);
  EXPECT_EQ(Serve("POST", "/v1/check", "{\"ids\":[1]}").status, 400u);
  EXPECT_EQ(Serve("GET", "/v1/nothing").status, 404u);
  EXPECT_EQ(Serve("GET", "/v1/check").status, 405u);
  EXPECT_EQ(Serve("GET", absl::StrCat("/v1/subjects/", kListed, "?asof=x")).status, 400u);
  EXPECT_EQ(count("bad_request"), bad + 1);
  EXPECT_EQ(count("unsupported_media_type"), media + 1);
  EXPECT_EQ(count("invalid_argument"), invalid + 3);
  EXPECT_EQ(count("not_found_path"), path + 1);
  EXPECT_EQ(count("method_not_allowed"), method + 1);
  // An operation's own refusal is the handler's to count.
  EXPECT_EQ(Serve("POST", "/v1/check", "{\"ids\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]}").status,
            400u);
  EXPECT_EQ(count("invalid_argument"), invalid + 3);
}

TEST_F(JsonApiTest, ManyNamesInOneObjectAreCheckedInLinearTime) {
  Start();
  // 200,000 names: the quadratic duplicate check took 82 s (Release); a linear one ~0.7 s. The
  // bound leaves room for sanitizers on a loaded machine and still tells the two apart.
  std::string body = "{";
  for (int i = 0; i < 200000; ++i) absl::StrAppend(&body, i == 0 ? "" : ",", "\"k", i, "\":0");
  body += ",\"k7\":1}";  // the last name repeats one: still found
  const absl::Time start = absl::Now();
  HttpReply reply = Serve("POST", "/v1/check", body);
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(BodyOf(reply)["error"]["message"], "the body names field \"k7\" twice");
  body.resize(body.rfind(','));
  reply = Serve("POST", "/v1/check", body + "}");
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "invalid_argument");  // an unknown field
  EXPECT_LT(absl::Now() - start, absl::Seconds(60));
}

TEST_F(JsonApiTest, BearerTokensAuthenticateCallers) {
  WithCallers();
  Start();
  const std::string body = absl::StrCat("{\"ids\":[\"", kListed, "\"]}");
  HttpReply reply = Serve("POST", "/v1/check", body);
  EXPECT_EQ(reply.status, 401u);
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "unauthenticated");
  EXPECT_EQ(HeaderOf(reply, "WWW-Authenticate"), "Bearer realm=\"shixind\"");
  reply = ServeRaw("POST", "/v1/check", body, "Bearer shx_wrong");
  EXPECT_EQ(reply.status, 401u);
  reply = ServeRaw("POST", "/v1/check", body, "Basic " + tokens_["full"]);
  EXPECT_EQ(reply.status, 401u);
  reply = ServeRaw("POST", "/v1/check", body, "bearer  " + tokens_["full"]);
  EXPECT_EQ(reply.status, 200u) << reply.body;
  reply = Serve("POST", "/v1/check", body, "full");
  EXPECT_EQ(reply.status, 200u) << reply.body;
  // 401 before the body is looked at.
  EXPECT_EQ(Serve("POST", "/v1/check", "not json").status, 401u);
}

// A refused request is logged with its path, the ID in it masked (docs/shixind.md, Logging):
// a client with a stale token must not write the IDs it looks up into the journal.
TEST_F(JsonApiTest, ARefusedRequestIsLoggedWithTheIdMasked) {
  WithCallers();
  Start();
  // A clock that leaps 10 s per line from the steady clock's now: the rate limit of earlier
  // tests' refusals (in this process, on the steady clock) does not apply.
  SetLogClockForTesting([] {
    static std::atomic<int64_t> now{std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count()};
    return now += int64_t{10'000'000'000};
  });
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(Serve("GET", absl::StrCat("/v1/subjects/", kListed)).status, 401u);
  EXPECT_EQ(
      ServeRaw("HEAD", "/v1/subjects/11010519491231002%78?asOf=2026-06-01", "", "Bearer shx_wrong")
          .status,
      401u);
  EXPECT_EQ(Serve("GET", "/v1/subjects/not-an-id").status, 401u);
  EXPECT_EQ(Serve("POST", "/v1/check", "{}").status, 401u);
  const std::string log = ::testing::internal::GetCapturedStderr();
  SetLogClockForTesting(nullptr);
  const std::string masked = MaskIdText(kListed);
  ASSERT_EQ(masked, "1101051949****002X");
  EXPECT_NE(log.find("HTTP GET /v1/subjects/" + masked + " from 192.0.2.7:4711 refused: "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("HTTP HEAD /v1/subjects/" + masked + " from 192.0.2.7:4711 refused: "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("HTTP GET /v1/subjects/n******** from"), std::string::npos) << log;
  EXPECT_NE(log.find("HTTP POST /v1/check from"), std::string::npos) << log;
  EXPECT_EQ(log.find("11010519491231002"), std::string::npos) << log;
  EXPECT_EQ(log.find("not-an-id"), std::string::npos) << log;
}

TEST_F(JsonApiTest, RepeatedWrongTokensAreHeldOffButNotTheRightOnes) {
  WithCallers();
  Start();
  const std::string body = absl::StrCat("{\"ids\":[\"", kListed, "\"]}");
  std::string last;
  for (int i = 0; i < 50; ++i) last = ServeRaw("POST", "/v1/check", body, "Bearer shx_no").body;
  EXPECT_NE(last.find("too many failed authentications"), std::string::npos) << last;
  EXPECT_EQ(ServeRaw("POST", "/v1/check", body, "Bearer shx_no").status, 401u);
  // The token is held off, not the address: a proxy's other clients are served.
  EXPECT_EQ(Serve("POST", "/v1/check", body, "full").status, 200u);
}

TEST_F(JsonApiTest, ScopesMaskingAndRatesAreTheBinaryPaths) {
  WithCallers();
  Start();
  // A caller without the detail and measures scopes.
  HttpReply reply = Serve("GET", absl::StrCat("/v1/subjects/", kListed), "", "checker");
  EXPECT_EQ(reply.status, 403u);
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "permission_denied");
  reply = Serve("POST", "/v1/measures", absl::StrCat("{\"id\":\"", kRelated, "\"}"), "checker");
  EXPECT_EQ(reply.status, 403u);

  // A masked caller: a related-only person's name is masked, a listed one's is not.
  const std::string body = absl::StrCat("{\"ids\":[\"", kListed, "\",\"", kRelated, "\"]}");
  const Json full = BodyOf(Serve("POST", "/v1/check", body, "full"));
  const Json masked = BodyOf(Serve("POST", "/v1/check", body, "masked"));
  ASSERT_EQ(masked["results"].size(), 2u) << masked.dump();
  EXPECT_EQ(masked["results"][0]["name"], full["results"][0]["name"]);
  EXPECT_EQ(masked["results"][1]["name"], MaskName(full["results"][1]["name"].get<std::string>()));
  EXPECT_NE(masked["results"][1]["name"], full["results"][1]["name"]);

  // A caller of burst 2: the third ID is over its rate.
  reply = Serve("POST", "/v1/check",
                absl::StrCat("{\"ids\":[\"", kListed, "\",\"", kListed, "\"]}"), "tight");
  EXPECT_EQ(reply.status, 200u) << reply.body;
  reply = Serve("POST", "/v1/check", absl::StrCat("{\"ids\":[\"", kListed, "\"]}"), "tight");
  EXPECT_EQ(reply.status, 429u);
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "rate_limited");
  int retry_after = 0;
  EXPECT_TRUE(absl::SimpleAtoi(HeaderOf(reply, "Retry-After"), &retry_after));
  EXPECT_GE(retry_after, 1);
}

// The largest max_batch a server may have answers its worst CHECK: every ID listed under a
// name of 255 bytes (100 characters, cut), each with a receipt. With max_batch 65535 (then
// accepted) a CHECK of 60,000 such IDs was answered 500 internal "response too large".
TEST_F(JsonApiTest, ACheckOfMaxBatchLongNamedIdsIsAnswered) {
  const std::filesystem::path data = dir_ / "longname";
  std::filesystem::create_directories(data);
  for (const char* file : {"debtors.ndjson", "relations.ndjson"}) {
    std::filesystem::copy_file(SourceDir() + "/data/sample/" + file, data / file);
  }
  std::ifstream in(data / "debtors.ndjson");
  const std::string debtors((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string long_name;
  for (int i = 0; i < 100; ++i) long_name += "张";
  ASSERT_TRUE(WriteFileAtomically((data / "debtors.ndjson").string(),
                                  absl::StrReplaceAll(debtors, {{"张秀兰", long_name}}))
                  .ok());
  absl::StatusOr<std::unique_ptr<Dataset>> d =
      LoadDataset(DatasetSource{data.string(), SourceDir() + "/data/measures/hegang-2018.json", 0});
  ASSERT_TRUE(d.ok()) << d.status();
  holder_.Publish(*std::move(d));
  config_.max_batch = kMaxBatchLimit;
  config_.max_payload = wire::kMaxPayloadLimit;
  WithAudit();
  Start();
  std::string body = "{\"ids\":[";
  for (uint32_t i = 0; i < kMaxBatchLimit; ++i) {
    absl::StrAppend(&body, i > 0 ? "," : "", "\"", kListed, "\"");
  }
  body += "]}";
  const HttpReply reply = Serve("POST", "/v1/check", body);
  ASSERT_EQ(reply.status, 200u) << reply.body.substr(0, 200);
  const Json j = BodyOf(reply);
  ASSERT_EQ(j["results"].size(), kMaxBatchLimit);
  // Whole, though the binary answer's str8 cuts it to 255 bytes: as /v1/measures and
  // /v1/subjects give it.
  EXPECT_EQ(j["results"][0]["name"], long_name);
  EXPECT_EQ(j["results"][kMaxBatchLimit - 1]["name"], long_name);
  EXPECT_TRUE(j["results"][kMaxBatchLimit - 1]["receipt"].is_string());
  const Json measures =
      BodyOf(Serve("POST", "/v1/measures", absl::StrCat("{\"id\":\"", kListed, "\"}")));
  EXPECT_EQ(measures["name"], long_name);
  EXPECT_EQ(BodyOf(Serve("GET", absl::StrCat("/v1/subjects/", kListed)))["name"], long_name);
  // Among other answers, each name where it belongs.
  const Json mixed = BodyOf(Serve("POST", "/v1/check",
                                  absl::StrCat("{\"ids\":[\"", kRelated, "\",\"", kListed, "\",\"",
                                               kInvalid, "\",\"", kListed, "\"]}")));
  ASSERT_EQ(mixed["results"].size(), 4u);
  EXPECT_EQ(mixed["results"][0]["name"], "陈海波");
  EXPECT_EQ(mixed["results"][1]["name"], long_name);
  EXPECT_EQ(mixed["results"][3]["name"], long_name);
}

TEST_F(JsonApiTest, AnAuditedAnswerCarriesAReceiptForFeedback) {
  WithCallers();
  WithAudit();
  Start();
  HttpReply reply = Serve("POST", "/v1/check",
                          absl::StrCat("{\"ids\":[\"", kListed, "\",\"", kUnlisted,
                                       "\"],\"matter\":\"M-1\",\"operator\":\"op7\"}"),
                          "full");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  Json j = BodyOf(reply);
  EXPECT_TRUE(j["results"][0]["receipt"].is_string()) << reply.body;
  EXPECT_FALSE(j["results"][1].contains("receipt"));  // unlisted: nothing recorded

  // An unlisted organisation, with its officers as the caller knows them.
  reply = Serve(
      "POST", "/v1/measures",
      absl::StrCat("{\"id\":\"", kUnlistedOrg, "\",\"officers\":[{\"role\":\"director\",\"id\":\"",
                   kListedDirector, "\"}],\"purpose\":\"loan\"}"),
      "full");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_FALSE(BodyOf(reply)["measures"].empty()) << reply.body;
  reply = Serve("POST", "/v1/measures",
                absl::StrCat("{\"id\":\"", kUnlistedOrg,
                             "\",\"officers\":[{\"role\":\"boss\",\"id\":\"x\"}]}"),
                "full");
  EXPECT_EQ(BodyOf(reply)["error"]["message"], "officers[0]: unknown role \"boss\"");
  reply = Serve("POST", "/v1/measures",
                absl::StrCat("{\"id\":\"", kRelated, "\",\"purpose\":\"loan\"}"), "full");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  const std::string receipt = BodyOf(reply)["receipt"].get<std::string>();
  ASSERT_FALSE(receipt.empty());

  reply = Serve("POST", "/v1/feedback",
                absl::StrCat("{\"receipt\":\"", receipt,
                             "\",\"operator\":\"op7\",\"applied\":[41],\"notApplied\":{\"52\":"
                             "\"no such asset\"},\"cancelled\":{\"29\":\"withdrawn\"}}"),
                "full");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  j = BodyOf(reply);
  EXPECT_EQ(j["receipt"], receipt);
  EXPECT_EQ(j["recorded"], 3);
  EXPECT_TRUE(j["feedback_receipt"].is_string());
  ASSERT_EQ(j["items"].size(), 3u);

  // Text that is not a receipt is a bad request; a receipt the server does not know, not found.
  reply = Serve("POST", "/v1/feedback", "{\"receipt\":\"nope-1-2\",\"applied\":[41]}", "full");
  EXPECT_EQ(reply.status, 400u) << reply.body;
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "invalid_argument");
  reply = Serve("POST", "/v1/feedback", "{\"receipt\":\"9f2c41d0-7-64\",\"applied\":[41]}", "full");
  EXPECT_EQ(reply.status, 404u) << reply.body;
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "not_found");
  // A reason of spaces only is no reason.
  reply = Serve("POST", "/v1/feedback",
                absl::StrCat("{\"receipt\":\"", receipt, "\",\"notApplied\":{\"52\":\"   \"}}"),
                "full");
  EXPECT_EQ(reply.status, 400u) << reply.body;
  EXPECT_EQ(BodyOf(reply)["error"]["message"],
            "measure 52: not_applied needs a reason (not only spaces or invisible characters)");
  // Nor is one of invisible characters (finding 4: U+00A0, U+200B, U+FEFF).
  reply = Serve("POST", "/v1/feedback",
                absl::StrCat("{\"receipt\":\"", receipt,
                             "\",\"notApplied\":{\"52\":\"\\u00a0\\u200b\\ufeff\"}}"),
                "full");
  EXPECT_EQ(reply.status, 400u) << reply.body;
  reply = Serve("POST", "/v1/feedback", absl::StrCat("{\"receipt\":\"", receipt, "\"}"), "full");
  EXPECT_EQ(reply.status, 400u);
  reply =
      Serve("POST", "/v1/feedback",
            absl::StrCat("{\"receipt\":\"", receipt, "\",\"notApplied\":{\"x\":\"r\"}}"), "full");
  EXPECT_EQ(BodyOf(reply)["error"]["message"], "notApplied.x: expected a measure number");
  reply = Serve("POST", "/v1/feedback",
                absl::StrCat("{\"receipt\":\"", receipt, "\",\"applied\":[41, 0]}"), "full");
  EXPECT_EQ(BodyOf(reply)["error"]["message"], "applied[1]: no measure 0");
  // Numbers as the schema says: not a string in applied, nothing but digits in a key.
  reply = Serve("POST", "/v1/feedback",
                absl::StrCat("{\"receipt\":\"", receipt, "\",\"applied\":[\"41\"]}"), "full");
  EXPECT_EQ(BodyOf(reply)["error"]["message"], "applied[0]: expected a measure number");
  for (const char* key : {" 52", "+52", "052", "52 "}) {
    reply =
        Serve("POST", "/v1/feedback",
              absl::StrCat("{\"receipt\":\"", receipt, "\",\"cancelled\":{\"", key, "\":\"r\"}}"),
              "full");
    EXPECT_EQ(reply.status, 400u) << key;
    EXPECT_EQ(BodyOf(reply)["error"]["message"],
              absl::StrCat("cancelled.", key, ": expected a measure number"));
  }
}

TEST_F(JsonApiTest, AnAuditThatCannotBeWrittenGivesNoReceipts) {
  WithAudit();
  Start();
  ops_.error = ENOSPC;
  // The check is answered again without records (audit_replay): no receipt.
  HttpReply reply = Serve("POST", "/v1/check", absl::StrCat("{\"ids\":[\"", kListed, "\"]}"));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  const Json j = BodyOf(reply);
  EXPECT_EQ(j["results"][0]["listed"], true);
  EXPECT_FALSE(j["results"][0].contains("receipt")) << reply.body;
  // MEASURES fails closed (audit_required).
  reply = Serve("POST", "/v1/measures", absl::StrCat("{\"id\":\"", kRelated, "\"}"));
  EXPECT_EQ(reply.status, 503u) << reply.body;
  EXPECT_EQ(BodyOf(reply)["error"]["code"], "audit_unavailable");
  ops_.error = 0;
}

TEST(HttpStatusOfTest, MapsEveryWireStatus) {
  EXPECT_EQ(HttpStatusOf(wire::Status::kRateLimited).status, 429u);
  EXPECT_EQ(HttpStatusOf(wire::Status::kUnauthenticated).status, 401u);
  EXPECT_EQ(HttpStatusOf(wire::Status::kPermissionDenied).status, 403u);
  EXPECT_EQ(HttpStatusOf(wire::Status::kNotFound).status, 404u);
  EXPECT_EQ(HttpStatusOf(wire::Status::kAuditUnavailable).status, 503u);
  EXPECT_EQ(HttpStatusOf(wire::Status::kOutOfRange).status, 400u);
  // Every code is the wire name in lower case.
  for (uint16_t s = 1; s <= static_cast<uint16_t>(wire::Status::kAuditUnavailable); ++s) {
    const auto status = static_cast<wire::Status>(s);
    EXPECT_EQ(HttpStatusOf(status).code,
              absl::AsciiStrToLower(std::string(wire::StatusName(status))));
    EXPECT_GE(HttpStatusOf(status).status, 400u);
  }
  const HttpReply reply = WireErrorReply(wire::Status::kRateLimited, "slow down", 1500);
  EXPECT_EQ(HeaderOf(reply, "Retry-After"), "2");
  EXPECT_EQ(reply.body, R"({"error":{"code":"rate_limited","message":"slow down"}})");
  // The longest wait a bucket answers (UINT32_MAX ms, 49.7 days) rounds up to its seconds: it
  // wrapped to 1, and a well-behaved client retried every second.
  EXPECT_EQ(HeaderOf(WireErrorReply(wire::Status::kRateLimited, "", UINT32_MAX), "Retry-After"),
            "4294968");
}

}  // namespace
}  // namespace shixin
