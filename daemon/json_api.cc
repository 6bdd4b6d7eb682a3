#include "daemon/json_api.h"

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "base/terminal.h"
#include "core/masking.h"
#include "core/query.h"
#include "core/types.h"
#include "core/validity.h"
#include "daemon/log.h"
#include "protocol/feedback_messages.h"
#include "protocol/messages.h"
#include "protocol/render.h"

namespace shixin {
namespace {

using Json = nlohmann::json;

// The protocol version the API speaks to the handler: receipts, context and FEEDBACK.
constexpr uint8_t kApiVersion = 4;
// A CHECK request's count field (u16): more IDs cannot be encoded.
constexpr size_t kMaxCheckIds = 0xFFFF;

// absl::string_view is not std::string_view in this build (Debian Abseil).
absl::string_view Absl(std::string_view s) { return {s.data(), s.size()}; }
std::string_view Std(absl::string_view s) { return {s.data(), s.size()}; }

// Returns how an error message quotes a text of the request: its first 64 bytes (not cutting a
// character), escaped (TerminalSafe).
std::string Quoted(std::string_view text) { return TerminalSafe(wire::TruncateUtf8(text, 64)); }

// A body or query refused before it reaches an operation (counted: HttpRefusal).
HttpReply BadRequest(std::string_view message) {
  return HttpRefusal(400, "invalid_argument", message);
}
// The same for a body or query whose reading failed with `status`: an as-of outside the
// representable instants is "out_of_range", as the server's own window refusal.
HttpReply BadRequest(const absl::Status& status) {
  return HttpRefusal(400, absl::IsOutOfRange(status) ? "out_of_range" : "invalid_argument",
                     Std(status.message()));
}

// A request body field: its JSON name, and for a string the most bytes the protocol carries.
struct Field {
  std::string_view name;
  size_t max_bytes = 0;
};

// Returns InvalidArgument naming the first member of `body` that is not in `known`.
absl::Status OnlyKnown(const Json& body, std::initializer_list<std::string_view> known) {
  for (auto it = body.begin(); it != body.end(); ++it) {
    bool found = false;
    for (std::string_view k : known) found |= it.key() == k;
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown field \"", TerminalSafe(it.key()), "\""));
    }
  }
  return absl::OkStatus();
}

// Returns `value` as a string of at most `max_bytes` bytes; `what` names it in the error.
absl::StatusOr<std::string> StringOf(const Json& value, std::string_view what, size_t max_bytes) {
  if (!value.is_string()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: expected a string, got %s", what, value.type_name()));
  }
  const std::string& s = value.get_ref<const std::string&>();
  if (s.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %d bytes exceed the limit of %d", what, s.size(), max_bytes));
  }
  return s;
}

// Returns the string member `field` of `body` ("" if absent, or NotFound if `required`).
absl::StatusOr<std::string> Member(const Json& body, const Field& field, bool required = false) {
  const auto it = body.find(field.name);
  if (it == body.end()) {
    if (required) {
      return absl::InvalidArgumentError(absl::StrFormat("missing field \"%s\"", field.name));
    }
    return std::string();
  }
  return StringOf(*it, field.name, field.max_bytes);
}

// Returns the instant of an RFC 3339 `text`; `what` names it. An empty one is refused, not
// taken as now: only an absent asOf means now, so a caller's as-of question is never answered
// for another instant.
absl::StatusOr<int64_t> InstantOf(std::string_view what, std::string_view text) {
  if (text.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s is empty: send an RFC 3339 instant, or leave %s out for now", what, what));
  }
  absl::StatusOr<int64_t> at = ParseAsOf(text);
  if (!at.ok()) {
    return absl::Status(at.status().code(), absl::StrFormat("%s: %s", what, at.status().message()));
  }
  return *at;
}

// Reads the request context and "asOf" of a CHECK or MEASURES body.
absl::Status ReadContext(const Json& body, wire::RequestContext* context, int64_t* as_of) {
  SHIXIN_ASSIGN_OR_RETURN(context->matter, Member(body, {"matter", wire::kMaxMatterBytes}));
  SHIXIN_ASSIGN_OR_RETURN(context->operator_id,
                          Member(body, {"operator", wire::kMaxOperatorBytes}));
  SHIXIN_ASSIGN_OR_RETURN(context->purpose, Member(body, {"purpose", wire::kMaxPurposeBytes}));
  *as_of = wire::kAsOfNow;
  if (body.contains("asOf")) {
    SHIXIN_ASSIGN_OR_RETURN(const std::string text, Member(body, {"asOf", 64}));
    SHIXIN_ASSIGN_OR_RETURN(*as_of, InstantOf("asOf", text));
  }
  return absl::OkStatus();
}

// Returns the refusal (415) of a body whose Content-Type `content_type` is not
// application/json, or declares a charset but UTF-8 (RFC 8259 8.1: the body is read as UTF-8,
// and would be refused later as "not JSON" for the wrong reason), or nullopt.
std::optional<HttpReply> MediaTypeRefusal(std::string_view content_type) {
  // No allocation: every POST passes here.
  const size_t semicolon = std::min(content_type.find(';'), content_type.size());
  if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(Absl(content_type.substr(0, semicolon))),
                              "application/json")) {
    return HttpRefusal(415, "unsupported_media_type",
                       absl::StrCat("send the body as application/json, not \"",
                                    TerminalSafe(content_type), "\""));
  }
  for (std::string_view rest = content_type.substr(semicolon); !rest.empty();) {
    rest.remove_prefix(1);  // the ';'
    const std::string_view param = rest.substr(0, rest.find(';'));
    rest.remove_prefix(param.size());
    const size_t equals = std::min(param.find('='), param.size());
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(Absl(param.substr(0, equals))),
                                "charset")) {
      continue;
    }
    absl::string_view charset =
        absl::StripAsciiWhitespace(Absl(param.substr(std::min(equals + 1, param.size()))));
    if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"') {
      charset = charset.substr(1, charset.size() - 2);
    }
    if (!absl::EqualsIgnoreCase(charset, "utf-8")) {
      return HttpRefusal(
          415, "unsupported_media_type",
          absl::StrCat("the body must be UTF-8, not charset \"", Quoted(Std(charset)), "\""));
    }
  }
  return std::nullopt;
}

// Returns why `text` does not parse as JSON, as the parser says it, with where: "at line 1,
// column 28: syntax error while parsing value - unexpected end of input; ...", or for a number
// out of range (1e400: valid JSON, but no double holds it) "at line 1, column 18: number
// overflow parsing '1e400'". Parses again with a SAX that keeps the error: the error path only.
std::string JsonSyntaxError(std::string_view text) {
  class ErrorSax final : public Json::json_sax_t {
   public:
    explicit ErrorSax(std::string_view text) : text_(text) {}
    bool null() override { return true; }
    bool boolean(bool /*val*/) override { return true; }
    bool number_integer(number_integer_t /*val*/) override { return true; }
    bool number_unsigned(number_unsigned_t /*val*/) override { return true; }
    bool number_float(number_float_t /*val*/, const string_t& /*s*/) override { return true; }
    bool string(string_t& /*val*/) override { return true; }
    bool binary(binary_t& /*val*/) override { return true; }
    bool start_object(std::size_t /*elements*/) override { return true; }
    bool key(string_t& /*val*/) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t /*elements*/) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t position, const std::string& last_token,
                     const nlohmann::detail::exception& ex) override {
      // "[json.exception.parse_error.101] parse error at line 1, column 2: ...".
      absl::string_view what = ex.what();
      if (const size_t bracket = what.find("] "); bracket != absl::string_view::npos) {
        what.remove_prefix(bracket + 2);
      }
      what = absl::StripPrefix(what, "parse error ");
      if (!absl::StartsWith(what, "at line")) {  // a number out of range: where it begins
        const std::string_view before = text_.substr(
            0, std::min(text_.size(), position - std::min(position, last_token.size())));
        const size_t newline = before.rfind('\n');
        absl::StrAppend(
            &error_, "at line ", std::count(before.begin(), before.end(), '\n') + 1, ", column ",
            before.size() - (newline == std::string_view::npos ? 0 : newline + 1) + 1, ": ");
      }
      absl::StrAppend(&error_, what.substr(0, 300));
      return false;
    }
    const std::string& error() const { return error_; }

   private:
    const std::string_view text_;
    std::string error_;
  } sax(text);
  Json::sax_parse(text.begin(), text.end(), &sax);
  return sax.error().empty() ? std::string("it does not parse") : sax.error();
}

// Returns the parsed JSON object of a POST body, or the reply refusing it: 415 for another
// content type or charset, 400 "bad_request" for a body that is not JSON (saying where and
// why) or names a field twice in one object, 400 for one that is no object.
std::variant<Json, HttpReply> ParseBody(const HttpRequest& request) {
  if (std::optional<HttpReply> refusal = MediaTypeRefusal(request.content_type)) {
    return *std::move(refusal);
  }
  // A name given twice is refused rather than resolved: a gateway that read the first "ids"
  // while shixin answered (and audited) the last would disagree about what was asked.
  // A hash set per open object keeps the check linear: a list searched per key made a body of
  // 100,000 names cost seconds of an I/O thread.
  std::vector<absl::flat_hash_set<std::string>> names;  // of each open object, innermost last
  std::string duplicate;
  const Json::parser_callback_t check_names = [&](int /*depth*/, Json::parse_event_t event,
                                                  Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      names.emplace_back();
    } else if (event == Json::parse_event_t::object_end) {
      names.pop_back();
    } else if (event == Json::parse_event_t::key && duplicate.empty()) {
      const std::string& name = parsed.get_ref<const std::string&>();
      if (!names.back().insert(name).second) duplicate = name;
    }
    return true;
  };
  Json body = Json::parse(request.body.begin(), request.body.end(), check_names, false);
  if (body.is_discarded()) {
    return HttpRefusal(400, "bad_request",
                       absl::StrCat("the body is not valid JSON: ", JsonSyntaxError(request.body)));
  }
  if (!duplicate.empty()) {
    return HttpRefusal(
        400, "bad_request",
        absl::StrCat("the body names field \"", TerminalSafe(duplicate), "\" twice"));
  }
  if (!body.is_object()) {
    return BadRequest(absl::StrCat("the body must be a JSON object, not ", body.type_name()));
  }
  return body;
}

// Returns the CHECK request of a /v1/check body.
absl::StatusOr<wire::CheckRequest> CheckRequestOf(const Json& body) {
  SHIXIN_RETURN_IF_ERROR(OnlyKnown(body, {"ids", "matter", "operator", "purpose", "asOf"}));
  const auto ids = body.find("ids");
  if (ids == body.end()) return absl::InvalidArgumentError("missing field \"ids\"");
  if (!ids->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ids: expected an array of strings, got ", std::string(ids->type_name())));
  }
  if (ids->empty() || ids->size() > kMaxCheckIds) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ids: %d IDs; send 1 to the server's max_batch", ids->size()));
  }
  wire::CheckRequest request;
  request.ids.reserve(ids->size());
  for (size_t i = 0; i < ids->size(); ++i) {
    SHIXIN_ASSIGN_OR_RETURN(std::string id,
                            StringOf((*ids)[i], absl::StrCat("ids[", i, "]"), wire::kMaxIdBytes));
    request.ids.push_back(std::move(id));
  }
  SHIXIN_RETURN_IF_ERROR(ReadContext(body, &request.context, &request.as_of));
  return request;
}

// Returns the officers of a /v1/measures body: [{"role": "legal_representative", "id": ...}].
absl::Status ReadOfficers(const Json& body, wire::MeasuresRequest* request) {
  const auto officers = body.find("officers");
  if (officers == body.end()) return absl::OkStatus();
  if (!officers->is_array()) return absl::InvalidArgumentError("officers: expected an array");
  if (officers->size() > wire::kMaxOfficers) {
    return absl::InvalidArgumentError(absl::StrFormat("officers: %d; MEASURES takes at most %d",
                                                      officers->size(), wire::kMaxOfficers));
  }
  for (size_t i = 0; i < officers->size(); ++i) {
    const Json& o = (*officers)[i];
    const std::string what = absl::StrCat("officers[", i, "]");
    if (!o.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": expected {\"role\", \"id\"}"));
    }
    if (absl::Status s = OnlyKnown(o, {"role", "id"}); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", s.message()));
    }
    absl::StatusOr<std::string> role = Member(o, {"role", 64}, true);
    absl::StatusOr<std::string> id = Member(o, {"id", wire::kMaxIdBytes}, true);
    for (const absl::Status& s : {role.status(), id.status()}) {
      if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", s.message()));
    }
    const std::optional<Role> r = RoleFromName(*role);
    if (!r) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": unknown role \"", TerminalSafe(*role), "\""));
    }
    request->officers.emplace_back(*r, *std::move(id));
  }
  return absl::OkStatus();
}

// Returns the MEASURES request of a /v1/measures body.
absl::StatusOr<wire::MeasuresRequest> MeasuresRequestOf(const Json& body) {
  SHIXIN_RETURN_IF_ERROR(OnlyKnown(
      body, {"id", "agency", "scenario", "officers", "matter", "operator", "purpose", "asOf"}));
  wire::MeasuresRequest request;
  SHIXIN_ASSIGN_OR_RETURN(request.id, Member(body, {"id", wire::kMaxIdBytes}, true));
  SHIXIN_ASSIGN_OR_RETURN(request.agency, Member(body, {"agency", wire::kMaxIdBytes}));
  SHIXIN_ASSIGN_OR_RETURN(request.scenario, Member(body, {"scenario", wire::kMaxIdBytes}));
  SHIXIN_RETURN_IF_ERROR(ReadOfficers(body, &request));
  SHIXIN_RETURN_IF_ERROR(ReadContext(body, &request.context, &request.as_of));
  return request;
}

// Returns the measure number of `value`: an element of applied (an integer), or a key of
// notApplied/cancelled (its decimal digits, as the integer prints: no sign, space or leading 0).
absl::StatusOr<uint16_t> MeasureOf(const Json& value, std::string_view what) {
  uint64_t n = 0;
  if (value.is_number_unsigned()) {
    n = value.get<uint64_t>();
  } else if (!value.is_string() || !absl::SimpleAtoi(value.get_ref<const std::string&>(), &n) ||
             value.get_ref<const std::string&>() != absl::StrCat(n)) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: expected a measure number", what));
  }
  if (n == 0 || n > 0xFFFF) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: no measure %d", what, n));
  }
  return static_cast<uint16_t>(n);
}

// Reads the {"<measure>": "reason"} object `key` of a feedback body as items of `outcome`.
absl::Status ReadReasons(const Json& body, std::string_view key, wire::FeedbackOutcome outcome,
                         std::vector<wire::FeedbackItem>* items) {
  const auto it = body.find(key);
  if (it == body.end()) return absl::OkStatus();
  if (!it->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: expected an object {\"<measure>\": \"reason\"}", key));
  }
  for (auto m = it->begin(); m != it->end(); ++m) {
    const std::string what = absl::StrFormat("%s.%s", key, TerminalSafe(m.key()));
    SHIXIN_ASSIGN_OR_RETURN(const uint16_t measure, MeasureOf(Json(m.key()), what));
    SHIXIN_ASSIGN_OR_RETURN(std::string reason, StringOf(m.value(), what, wire::kMaxReasonBytes));
    items->push_back(wire::FeedbackItem{measure, outcome, std::move(reason)});
  }
  return absl::OkStatus();
}

// Returns the FEEDBACK request of a /v1/feedback body.
absl::StatusOr<wire::FeedbackRequest> FeedbackRequestOf(const Json& body) {
  SHIXIN_RETURN_IF_ERROR(
      OnlyKnown(body, {"receipt", "operator", "applied", "notApplied", "cancelled"}));
  wire::FeedbackRequest request;
  SHIXIN_ASSIGN_OR_RETURN(request.receipt, Member(body, {"receipt", 0xFF}, true));
  if (request.receipt.empty()) return absl::InvalidArgumentError("receipt: empty");
  SHIXIN_ASSIGN_OR_RETURN(request.operator_id, Member(body, {"operator", wire::kMaxOperatorBytes}));
  if (const auto applied = body.find("applied"); applied != body.end()) {
    if (!applied->is_array()) {
      return absl::InvalidArgumentError("applied: expected an array of measure numbers");
    }
    for (size_t i = 0; i < applied->size(); ++i) {
      const std::string what = absl::StrCat("applied[", i, "]");
      if (!(*applied)[i].is_number()) {  // a number, as the schema says ("41" is a key's form)
        return absl::InvalidArgumentError(absl::StrCat(what, ": expected a measure number"));
      }
      SHIXIN_ASSIGN_OR_RETURN(const uint16_t measure, MeasureOf((*applied)[i], what));
      request.items.push_back(wire::FeedbackItem{measure, wire::FeedbackOutcome::kApplied});
    }
  }
  SHIXIN_RETURN_IF_ERROR(
      ReadReasons(body, "notApplied", wire::FeedbackOutcome::kNotApplied, &request.items));
  SHIXIN_RETURN_IF_ERROR(
      ReadReasons(body, "cancelled", wire::FeedbackOutcome::kCancelled, &request.items));
  if (request.items.empty() || request.items.size() > wire::kMaxFeedbackItems) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%d measures; one feedback takes 1 to %d (applied, notApplied, "
                        "cancelled)",
                        request.items.size(), wire::kMaxFeedbackItems));
  }
  return request;
}

// Returns `text` with %XX escapes decoded (a path segment or a query value).
std::string PercentDecoded(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && absl::ascii_isxdigit(text[i + 1]) &&
        absl::ascii_isxdigit(text[i + 2])) {
      const auto hex = [](char c) {
        return absl::ascii_isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
      };
      out.push_back(static_cast<char>(hex(text[i + 1]) << 4 | hex(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Returns the as-of instant of a /v1/subjects query string: wire::kAsOfNow without "asOf".
// Names are matched once percent-decoded; an unknown name, an "asOf" given twice or empty are
// refused, as a body's unknown or ill-typed fields are: else a misspelled asOf ("asof") would
// be answered for now, and nothing in the answer would tell.
absl::StatusOr<int64_t> SubjectAsOf(std::string_view query) {
  std::optional<std::string> as_of;
  for (std::string_view rest = query; !rest.empty();) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&" or "&&"
    const size_t equals = pair.find('=');
    const std::string name = PercentDecoded(pair.substr(0, equals));
    if (name != "asOf") {
      return absl::InvalidArgumentError(
          absl::StrFormat("unknown query parameter \"%s\"; the only one is asOf", Quoted(name)));
    }
    if (as_of) return absl::InvalidArgumentError("asOf is given twice");
    as_of = equals == std::string_view::npos ? "" : PercentDecoded(pair.substr(equals + 1));
  }
  if (!as_of) return wire::kAsOfNow;
  return InstantOf("asOf", *as_of);
}

// Returns InvalidArgument naming the first parameter of the query string of POST `path`:
// the POST endpoints take everything in the body, and an `asOf` in the query would otherwise
// be answered for now (as /v1/subjects refuses an unknown parameter).
absl::Status NoQuery(std::string_view path, std::string_view query) {
  for (std::string_view rest = query; !rest.empty();) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;  // "?" or "&&": no parameter
    const std::string name = PercentDecoded(pair.substr(0, pair.find('=')));
    return absl::InvalidArgumentError(absl::StrFormat(
        "unknown query parameter \"%s\": POST %s takes no query parameters; send its fields "
        "(asOf too) in the JSON body",
        Quoted(name), path));
  }
  return absl::OkStatus();
}

HttpReply JsonReply(std::string body) {
  HttpReply reply;
  reply.body = std::move(body);
  return reply;
}

HttpReply MethodNotAllowed(std::string_view allow) {
  HttpReply reply = HttpRefusal(405, "method_not_allowed", absl::StrFormat("use %s", allow));
  reply.headers.emplace_back("Allow", std::string(allow));
  return reply;
}

}  // namespace

HttpStatusCode HttpStatusOf(wire::Status status) {
  using S = wire::Status;
  switch (status) {
    case S::kOk:
      return {200, "ok"};
    case S::kInvalidId:
      return {400, "invalid_id"};
    case S::kInvalidArgument:
      return {400, "invalid_argument"};
    case S::kOutOfRange:
      return {400, "out_of_range"};
    case S::kBadPayload:
      return {400, "bad_payload"};
    case S::kUnauthenticated:
      return {401, "unauthenticated"};
    case S::kPermissionDenied:
      return {403, "permission_denied"};
    case S::kNotFound:
      return {404, "not_found"};
    case S::kFrameTooLarge:
      return {413, "frame_too_large"};
    case S::kRateLimited:
      return {429, "rate_limited"};
    case S::kStaleRefused:
      return {503, "stale_refused"};
    case S::kBusy:
      return {503, "busy"};
    case S::kUnavailable:
      return {503, "unavailable"};
    case S::kAuditUnavailable:
      return {503, "audit_unavailable"};
    case S::kBadFrame:
      return {500, "bad_frame"};
    case S::kUnsupportedVersion:
      return {500, "unsupported_version"};
    case S::kUnknownOpcode:
      return {500, "unknown_opcode"};
    case S::kReloadFailed:
      return {500, "reload_failed"};
    case S::kInternal:
      return {500, "internal"};
  }
  return {500, "internal"};
}

HttpReply WireErrorReply(wire::Status status, std::string_view message, uint32_t retry_after_ms) {
  const HttpStatusCode s = HttpStatusOf(status);
  HttpReply reply = JsonError(s.status, s.code, message);
  if (status == wire::Status::kRateLimited) {
    // In 64 bits: a wait saturated at UINT32_MAX ms rounded up in 32 wrapped to 0, so 1 s.
    const uint64_t seconds = std::max<uint64_t>(1, (uint64_t{retry_after_ms} + 999) / 1000);
    reply.headers.emplace_back("Retry-After", absl::StrCat(seconds));
  }
  if (status == wire::Status::kUnauthenticated) {
    reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"shixind\"");
  }
  return reply;
}

JsonApi::JsonApi(const Handler* handler, Access* access)
    : handler_(handler),
      own_access_(access == nullptr ? Access::OpenMode() : nullptr),
      access_(access != nullptr ? access : own_access_.get()) {}

HttpReply JsonApi::Serve(const HttpRequest& request) const {
  std::string_view path = request.target;
  std::string_view query;
  if (const size_t q = path.find('?'); q != std::string_view::npos) {
    query = path.substr(q + 1);
    path = path.substr(0, q);
  }
  constexpr std::string_view kSubjects = "/v1/subjects/";
  const bool subject = path.substr(0, kSubjects.size()) == kSubjects &&
                       path.size() > kSubjects.size() &&
                       path.find('/', kSubjects.size()) == std::string_view::npos;
  const bool post = path == "/v1/check" || path == "/v1/measures" || path == "/v1/feedback";
  if (!subject && !post) {
    return HttpRefusal(
        404, "not_found_path",
        absl::StrCat("no such endpoint: ", TerminalSafe(path), " (see docs/openapi.yaml)"));
  }
  if (post && request.method != "POST") return MethodNotAllowed("POST");
  // HEAD is GET (the listener drops the body); it is looked up and audited as GET is.
  if (subject && request.method != "GET" && request.method != "HEAD") {
    return MethodNotAllowed("GET, HEAD");
  }
  // The epoch before the grant: a reload in between makes the handler look the grant up again.
  Session session;
  session.epoch = access_->epoch();
  absl::StatusOr<std::shared_ptr<const Grant>> grant = Authenticate(request);
  if (!grant.ok()) {  // logged as a refused HELLO is: never the token, never an ID in full
    const std::string logged =
        subject ? std::string(kSubjects) + MaskIdText(PercentDecoded(path.substr(kSubjects.size())))
                : std::string(path);
    LogLimited(LogKind::kAuthentication, LogLevel::kWarning, "HTTP %s %s from %s refused: %s",
               std::string(request.method), logged, request.peer->address,
               grant.status().message());
    return WireErrorReply(wire::Status::kUnauthenticated, Std(grant.status().message()));
  }
  session.version = kApiVersion;
  session.started = true;
  session.grant = *std::move(grant);
  if (absl::Status no_query = post ? NoQuery(path, query) : absl::OkStatus(); !no_query.ok()) {
    HttpReply refused = BadRequest(no_query);
    refused.caller_proven = !access_->open();
    if (refused.caller_proven) refused.grant = session.grant;
    return refused;
  }
  HttpReply reply = subject ? Subject(request, path.substr(kSubjects.size()), query, session)
                    : path == "/v1/check"    ? Check(request, session)
                    : path == "/v1/measures" ? Measures(request, session)
                                             : Feedback(request, session);
  reply.caller_proven = !access_->open();
  if (reply.caller_proven) reply.grant = session.grant;
  return reply;
}

absl::StatusOr<std::shared_ptr<const Grant>> JsonApi::Authenticate(
    const HttpRequest& request) const {
  if (access_->open()) return access_->Anonymous();
  std::string_view value = Std(absl::StripAsciiWhitespace(Absl(request.authorization)));
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(Absl(value.substr(0, kScheme.size())), Absl(kScheme))) {
    access_->CountRefused(AuthVia::kBearer);
    return absl::UnauthenticatedError(
        "a bearer token is required: send Authorization: Bearer <token>");
  }
  value = Std(absl::StripLeadingAsciiWhitespace(Absl(value.substr(kScheme.size()))));
  return access_->AuthenticateToken(value, request.peer->ip);
}

JsonApi::Answer JsonApi::Call(wire::Opcode op, std::string_view payload, const Peer& peer,
                              Session& session) const {
  // The request as a connection would have read it off the wire.
  wire::FrameHeader h;
  h.version = session.version;
  h.opcode = static_cast<uint8_t>(op);
  h.request_id = 1;
  h.payload_size = static_cast<uint32_t>(payload.size());
  std::string frame;
  wire::AppendHeader(h, &frame);
  frame.append(payload);
  const wire::Decoded request = wire::DecodeFrame(frame, wire::kMaxPayloadLimit, session.version);
  Answer answer;
  if (request.result != wire::DecodeResult::kComplete) {  // over the protocol's payload limit
    answer.header.status = static_cast<uint16_t>(wire::Status::kFrameTooLarge);
    wire::EncodeError(request.message, &answer.payload);
    return answer;
  }
  std::string out;
  ReloadRequest unused;
  const uint64_t ticket = session.audit_ticket;
  handler_->Handle(request.header, request.payload, peer, &out, &unused, &session);
  if (session.audit_ticket != ticket && !handler_->SyncAudit(session.audit_ticket).ok()) {
    // The records are gone: the answer may not carry their receipts (Connection::SyncAudit).
    session.audit_replay = true;
    out.clear();
    if (session.whole_names != nullptr) session.whole_names->clear();
    handler_->Handle(request.header, request.payload, peer, &out, &unused, &session);
    session.audit_replay = false;
  }
  const wire::Decoded response = wire::DecodeFrame(out, wire::kMaxPayloadLimit, session.version);
  if (response.result != wire::DecodeResult::kComplete) {
    answer.header.status = static_cast<uint16_t>(wire::Status::kInternal);
    wire::EncodeError("the handler's answer does not decode", &answer.payload);
    return answer;
  }
  answer.header = response.header;
  answer.payload = std::string(response.payload);
  return answer;
}

HttpReply JsonApi::ErrorOf(const Answer& answer) {
  const auto status = static_cast<wire::Status>(answer.header.status);
  absl::StatusOr<wire::ErrorResponse> error =
      wire::DecodeError(answer.payload, status, answer.header.version);
  if (!error.ok()) return WireErrorReply(status, "(malformed error message)");
  return WireErrorReply(status, error->message, error->retry_after_ms);
}

std::string JsonApi::WithList(std::string object, const Answer& answer) const {
  const std::optional<Handler::ListId> list = handler_->ListOf(answer.header.generation);
  // The object's closing brace gives way to the list's fields.
  if (!object.empty() && object.back() == '}') object.pop_back();
  if (object.size() > 1) object.push_back(',');
  // The position (docs/replicas.md): the generation is per process, so a caller moved to another
  // replica compares these instead.
  absl::StrAppend(
      &object,
      "\"version\":", list ? absl::StrFormat("\"%016x\"", list->version) : std::string("null"),
      ",\"source_time\":",
      list ? absl::StrCat("\"", FormatInstant(list->source_time), "\"") : std::string("null"),
      ",\"delta_sequence\":", list ? absl::StrCat(list->sequence) : std::string("null"),
      ",\"generation\":", answer.header.generation,
      ",\"stale\":", (answer.header.flags & wire::kFlagStale) != 0 ? "true" : "false", "}");
  return object;
}

HttpReply JsonApi::Check(const HttpRequest& request, Session& session) const {
  std::variant<Json, HttpReply> body = ParseBody(request);
  if (HttpReply* refused = std::get_if<HttpReply>(&body)) return std::move(*refused);
  absl::StatusOr<wire::CheckRequest> check = CheckRequestOf(std::get<Json>(body));
  if (!check.ok()) return BadRequest(check.status());
  std::string payload;
  wire::Encode(*check, &payload, kApiVersion);
  // The names the binary answer cuts to its str8 field: JSON answers them whole, as the other
  // endpoints do.
  std::vector<std::pair<size_t, std::string>> whole_names;
  session.whole_names = &whole_names;
  const Answer answer = Call(wire::Opcode::kCheck, payload, *request.peer, session);
  session.whole_names = nullptr;
  if (answer.header.status != 0) return ErrorOf(answer);
  wire::CheckResponseReader reader(answer.payload, kApiVersion);
  std::string results = "{\"results\":[";
  wire::CheckAnswer a;
  auto whole = whole_names.begin();
  for (size_t i = 0; reader.Next(&a); ++i) {
    if (i > 0) results.push_back(',');
    const std::string_view input = i < check->ids.size() ? check->ids[i] : std::string_view();
    if (a.status == wire::CheckStatus::kInvalid) {
      absl::StrAppend(&results, ErrorJson(input, a.error));
      continue;
    }
    CheckResult result = CheckResultOf(a, input);
    if (whole != whole_names.end() && whole->first == i) result.name = std::move((whole++)->second);
    absl::StrAppend(&results, CheckJson(result, a.receipt));
  }
  if (!reader.status().ok() || reader.count() != check->ids.size()) {
    return JsonError(500, "internal", "the answer does not decode");
  }
  results += "]}";
  return JsonReply(WithList(std::move(results), answer));
}

HttpReply JsonApi::Measures(const HttpRequest& request, Session& session) const {
  std::variant<Json, HttpReply> body = ParseBody(request);
  if (HttpReply* refused = std::get_if<HttpReply>(&body)) return std::move(*refused);
  absl::StatusOr<wire::MeasuresRequest> measures = MeasuresRequestOf(std::get<Json>(body));
  if (!measures.ok()) return BadRequest(measures.status());
  std::string payload;
  wire::Encode(*measures, &payload, kApiVersion);
  const Answer answer = Call(wire::Opcode::kMeasures, payload, *request.peer, session);
  if (answer.header.status != 0) return ErrorOf(answer);
  std::string receipt;
  absl::StatusOr<MeasuresResult> result =
      wire::DecodeMeasuresResponseAndReceipt(answer.payload, kApiVersion, &receipt);
  if (!result.ok()) return JsonError(500, "internal", Std(result.status().message()));
  return JsonReply(WithList(MeasuresJson(*result, receipt), answer));
}

HttpReply JsonApi::Subject(const HttpRequest& request, std::string_view id, std::string_view query,
                           Session& session) const {
  wire::DetailRequest detail;
  detail.id = PercentDecoded(id);
  if (detail.id.size() > wire::kMaxIdBytes) {
    return BadRequest(absl::StrFormat("the ID: %d bytes exceed the limit of %d", detail.id.size(),
                                      wire::kMaxIdBytes));
  }
  absl::StatusOr<int64_t> as_of = SubjectAsOf(query);
  if (!as_of.ok()) return BadRequest(as_of.status());
  detail.as_of = *as_of;
  std::string payload;
  wire::Encode(detail, &payload, kApiVersion);
  const Answer answer = Call(wire::Opcode::kDetail, payload, *request.peer, session);
  if (answer.header.status != 0) return ErrorOf(answer);
  absl::StatusOr<CheckResult> result = wire::DecodeDetailResponse(answer.payload, kApiVersion);
  if (!result.ok()) return JsonError(500, "internal", Std(result.status().message()));
  return JsonReply(WithList(CheckJson(*result), answer));
}

HttpReply JsonApi::Feedback(const HttpRequest& request, Session& session) const {
  std::variant<Json, HttpReply> body = ParseBody(request);
  if (HttpReply* refused = std::get_if<HttpReply>(&body)) return std::move(*refused);
  absl::StatusOr<wire::FeedbackRequest> feedback = FeedbackRequestOf(std::get<Json>(body));
  if (!feedback.ok()) return BadRequest(feedback.status());
  std::string payload;
  wire::Encode(*feedback, &payload);
  const Answer answer = Call(wire::Opcode::kFeedback, payload, *request.peer, session);
  if (answer.header.status != 0) return ErrorOf(answer);
  absl::StatusOr<wire::FeedbackResponse> response = wire::DecodeFeedbackResponse(answer.payload);
  if (!response.ok()) return JsonError(500, "internal", Std(response.status().message()));
  return JsonReply(FeedbackJson(*feedback, *response));
}

}  // namespace shixin
