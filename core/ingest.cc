#include "core/ingest.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <span>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "base/terminal.h"
#include "core/case_code.h"
#include "core/ingest_internal.h"
#include "core/paths.h"
#include "core/validity.h"

namespace shixin {
namespace {

namespace ondemand = simdjson::ondemand;
using ingest_internal::ExtraKeys;
using ingest_internal::IsJsonSpace;
using ingest_internal::kPadding;
using ingest_internal::LineKeys;
using ingest_internal::ParseCase;
using ingest_internal::StdView;
using ingest_internal::StringStore;
using ondemand::json_type;

std::string JsonReason(simdjson::error_code error) {
  if (error == simdjson::UTF8_ERROR) return "invalid UTF-8";
  return absl::StrCat("malformed JSON: ", simdjson::error_message(error));
}

// Names the character at the start of `text` for a message: 'x' if printable ASCII, else its
// code point (U+0000, U+FEFF), or the byte if it is not UTF-8.
std::string CharName(std::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead >= 0x20 && lead < 0x7F) return absl::StrFormat("'%c'", lead);
  if (lead < 0x80) return absl::StrFormat("U+%04X", lead);
  const size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  uint32_t cp = len == 4 ? lead & 0x07U : len == 3 ? lead & 0x0FU : lead & 0x1FU;
  for (size_t i = 1; i < len && i < text.size() && (byte(i) & 0xC0) == 0x80; ++i) {
    cp = (cp << 6) | (byte(i) & 0x3FU);
    if (i + 1 == len) return absl::StrFormat("U+%04X", cp);
  }
  return absl::StrFormat("byte 0x%02X", lead);
}

// Names the commonest byte faults of an export in a line the parser refused, where its own
// reason would not point at them: a byte-order mark at its start (two exports concatenated),
// bytes after a whole object (a NUL, another object), a raw control character. Returns nullopt
// if the line has none of them.
std::optional<std::string> ByteFault(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) {
    return "byte-order mark U+FEFF at the start of the line";
  }
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (static_cast<unsigned char>(c) < 0x20 && (in_string || !IsJsonSpace(c))) {
      return absl::StrFormat("malformed JSON: %scontrol character %s at column %d",
                             in_string ? "unescaped " : "", CharName(text.substr(i)), i + 1);
    }
    if (in_string) {
      if (c == '\\') ++i;
      if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && depth > 0 && --depth == 0 && c == '}') {
      const size_t rest = text.find_first_not_of(" \t\r\n", i + 1);
      if (rest == std::string_view::npos) return std::nullopt;
      return absl::StrFormat("malformed JSON: unexpected bytes after the object at column %d: %s",
                             rest + 1, CharName(text.substr(rest)));
    }
  }
  return std::nullopt;
}

// The error for a line the parser refused with `reason`: the byte fault it has, if any.
absl::Status LineError(std::string_view text, std::string_view reason) {
  std::optional<std::string> fault = ByteFault(text);
  return absl::InvalidArgumentError(fault ? *fault : std::string(reason));
}

absl::Status WrongType(std::string_view field, std::string_view expected, json_type type) {
  static constexpr std::string_view kNames[] = {"?",        "an array",  "an object", "a number",
                                                "a string", "a boolean", "null"};
  return FeedFieldError(field, absl::StrFormat("expected %s, found %s", expected,
                                               kNames[static_cast<int>(type) % 7]));
}

std::string_view TrimAscii(std::string_view text) {
  return StdView(absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size())));
}

// Returns the type of `value`, checking that a value typed null by its first byte is "null".
absl::Status ValueType(ondemand::value& value, std::string_view field, json_type* type) {
  if (auto error = value.type().get(*type)) return FeedFieldError(field, JsonReason(error));
  bool is_null = false;
  if (*type == json_type::null && (value.is_null().get(is_null) || !is_null)) {
    return FeedFieldError(field, "malformed JSON");
  }
  return absl::OkStatus();
}

// Reads a value known to be a string.
absl::Status ReadStringValue(ondemand::value& value, std::string_view field, StringStore& strings,
                             std::string_view* out) {
  std::string_view token = TrimAscii(value.raw_json_token());  // with its quotes
  if (token.size() < 2 || token.front() != '"' || token.back() != '"') {
    return FeedFieldError(field, "malformed JSON string");
  }
  std::string_view content = token.substr(1, token.size() - 2);
  if (content.find('\\') == std::string_view::npos) {  // the common case: no escapes
    *out = strings.Raw(content);
    return absl::OkStatus();
  }
  std::string_view unescaped;
  if (auto error = value.get_string().get(unescaped)) {
    return FeedFieldError(field, JsonReason(error));
  }
  *out = strings.Copy(unescaped);
  return absl::OkStatus();
}

// Reads an optional string field: null leaves `out` empty, another type is an error.
absl::Status ReadString(ondemand::value& value, std::string_view field, StringStore& strings,
                        std::optional<std::string_view>* out) {
  json_type type = json_type::null;
  SHIXIN_RETURN_IF_ERROR(ValueType(value, field, &type));
  if (type == json_type::null) return absl::OkStatus();
  if (type != json_type::string) return WrongType(field, "a string", type);
  std::string_view text;
  SHIXIN_RETURN_IF_ERROR(ReadStringValue(value, field, strings, &text));
  *out = text;
  return absl::OkStatus();
}

// A value that feeds write either as a JSON number or as a string.
struct Scalar {
  bool present = false;  // false for null, absent, and ""
  bool is_number = false;
  uint64_t number = 0;
  std::string_view text;
};

absl::Status ReadScalar(ondemand::value& value, std::string_view field, StringStore& strings,
                        Scalar* out) {
  *out = Scalar();
  json_type type = json_type::null;
  SHIXIN_RETURN_IF_ERROR(ValueType(value, field, &type));
  if (type == json_type::string) {
    absl::Status s = ReadStringValue(value, field, strings, &out->text);
    out->present = !out->text.empty();
    return s;
  }
  if (type == json_type::null) return absl::OkStatus();
  if (type != json_type::number) return WrongType(field, "a number or a string", type);
  if (value.get_uint64().get(out->number)) {
    return FeedFieldError(field, "expected a non-negative integer");
  }
  out->present = out->is_number = true;
  return absl::OkStatus();
}

std::string Shown(const Scalar& scalar) {
  return scalar.is_number ? absl::StrCat(scalar.number) : QuoteFeedValue(scalar.text);
}

// Parses 1 to `max_len` ASCII digits.
bool ParseDigits(std::string_view text, size_t max_len, uint64_t* out) {
  if (text.empty() || text.size() > max_len) return false;
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = n;
  return true;
}

// Reads the digits of a scalar given as a number or as a string of at most `max_len` digits.
bool ScalarDigits(const Scalar& scalar, size_t max_len, uint64_t* out) {
  *out = scalar.number;
  return scalar.is_number || ParseDigits(scalar.text, max_len, out);
}

// Consumes 1 to `max_len` leading digits of `*text`.
bool ConsumeDigits(std::string_view* text, size_t max_len, int* out) {
  size_t n = 0;
  while (n < text->size() && n < max_len && absl::ascii_isdigit((*text)[n])) ++n;
  uint64_t value = 0;
  if (!ParseDigits(text->substr(0, n), max_len, &value)) return false;
  *out = static_cast<int>(value);
  text->remove_prefix(n);
  return true;
}

bool ConsumePrefix(std::string_view* text, std::string_view prefix) {
  if (!text->starts_with(prefix)) return false;
  text->remove_prefix(prefix.size());
  return true;
}

// Returns YYYYMMDD, or nullopt for a day that is not in the calendar or (setting `*outside` if
// it is not null) one in a year outside 1900-2100, the list's range.
std::optional<uint32_t> MakeDate(int64_t year, int month, int day, bool* outside = nullptr) {
  if (month < 1 || month > 12 || day < 1) return std::nullopt;
  const absl::CivilDay civil(year, month, day);
  if (civil.month() != month || civil.day() != day) return std::nullopt;  // e.g. 30 February
  // Filing and publication dates: a year outside this range is a typo.
  if (year < 1900 || year > 2100) {
    if (outside != nullptr) *outside = true;
    return std::nullopt;
  }
  return static_cast<uint32_t>(year * 10000 + int64_t{month} * 100 + day);
}

// ParseFeedDate, setting `*outside` (if not null) for a real date outside the list's range.
std::optional<uint32_t> ParseDate(std::string_view text, bool* outside) {
  text = TrimAscii(text);
  if (text.empty()) return 0;
  uint64_t n = 0;
  if (text.size() == 8 && ParseDigits(text, 8, &n)) {  // 20190114
    return MakeDate(static_cast<int64_t>(n / 10000), static_cast<int>(n / 100 % 100),
                    static_cast<int>(n % 100), outside);
  }
  int year = 0, month = 0, day = 0;
  if (!ConsumeDigits(&text, 4, &year) || year < 1000) return std::nullopt;
  // 2017年08月11日, 2019-07-13 or 2019/07/13; one- or two-digit months and days.
  std::string_view sep1 = "年", sep2 = "月", last = "日";
  if (!text.starts_with(sep1)) {
    sep1 = sep2 = text.starts_with("-") ? "-" : "/";
    last = "";
  }
  if (!ConsumePrefix(&text, sep1) || !ConsumeDigits(&text, 2, &month) ||
      !ConsumePrefix(&text, sep2) || !ConsumeDigits(&text, 2, &day) ||
      !ConsumePrefix(&text, last) || !text.empty()) {
    return std::nullopt;
  }
  return MakeDate(year, month, day, outside);
}

std::optional<SubjectKind> PartyKind(const Scalar& party) {
  static constexpr std::string_view kPersons[] = {"0", "580", "自然人", "个人"};
  static constexpr std::string_view kOrgs[] = {
      "1", "581", "法人", "单位", "企业", "法人或其他组织", "其他组织"};
  std::string number = party.is_number ? absl::StrCat(party.number) : "";
  std::string_view text = party.is_number ? std::string_view(number) : party.text;
  if (std::find(std::begin(kPersons), std::end(kPersons), text) != std::end(kPersons)) {
    return SubjectKind::kPerson;
  }
  if (std::find(std::begin(kOrgs), std::end(kOrgs), text) != std::end(kOrgs)) {
    return SubjectKind::kOrganization;
  }
  return std::nullopt;
}

// What a person's ID may be, for the reasons that refuse another document.
constexpr std::string_view kPersonIds =
    "a resident ID (Hong Kong, Macau and Taiwan residents' residence permits included) or a "
    "foreigner's permanent residence ID of 2023; passport and permit numbers are not supported";

// The reason for a person's `field` that is no ID in a person's shape (HasPersonIdShape()).
absl::Status NotAPersonsIdError(std::string_view field) {
  return FeedFieldError(
      field,
      absl::StrFormat("not an ID number shixin can hold for a person: expected %s", kPersonIds));
}

absl::Status ParseIdField(std::string_view field, std::string_view text, Id* out) {
  absl::StatusOr<Id> id = ParseId(text);
  if (!id.ok()) return FeedFieldError(field, StdView(id.status().message()));
  *out = *id;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Debtor records.

// What one debtor record has said so far; checked as a whole once all keys are read.
struct CaseState {
  CaseInput* out = nullptr;
  bool has_court = false;
  Scalar party;
  Scalar stamp;
  // Why cardNum, in no person's ID shape, is no ID: a person's passport or permit number is
  // refused saying so once partyTypeName, which may come later, tells it is a person's.
  absl::Status card_error;
};

using CaseReader = absl::Status (*)(ondemand::value&, StringStore&, CaseState*);

absl::Status ReadCardNum(ondemand::value& value, StringStore& strings, CaseState* state) {
  std::optional<std::string_view> text;
  SHIXIN_RETURN_IF_ERROR(ReadString(value, "cardNum", strings, &text));
  if (!text) return absl::OkStatus();
  absl::Status parsed = ParseIdField("cardNum", *text, &state->out->id);
  if (parsed.ok() || HasPersonIdShape(*text)) return parsed;
  state->card_error = std::move(parsed);
  return absl::OkStatus();
}

absl::Status ReadPartyType(ondemand::value& value, StringStore& strings, CaseState* state) {
  SHIXIN_RETURN_IF_ERROR(ReadScalar(value, "partyTypeName", strings, &state->party));
  // An empty string is as good as absent: the ID tells the kind anyway.
  if (state->party.present && !PartyKind(state->party)) {
    return FeedFieldError("partyTypeName", "unknown party type " + Shown(state->party));
  }
  return absl::OkStatus();
}

absl::Status ReadDate(ondemand::value& value, std::string_view field, StringStore& strings,
                      uint32_t* out) {
  std::optional<std::string_view> text;
  SHIXIN_RETURN_IF_ERROR(ReadString(value, field, strings, &text));
  if (!text) return absl::OkStatus();
  bool outside = false;
  std::optional<uint32_t> date = ParseDate(*text, &outside);
  if (!date && outside) {
    return FeedFieldError(
        field, "outside the list's range (the years 1900 to 2100): " + QuoteFeedValue(*text));
  }
  if (!date) return FeedFieldError(field, "not a date: " + QuoteFeedValue(*text));
  *out = *date;
  return absl::OkStatus();
}

absl::Status ReadPublishStamp(ondemand::value& value, StringStore& strings, CaseState* state) {
  SHIXIN_RETURN_IF_ERROR(ReadScalar(value, "publishDateStamp", strings, &state->stamp));
  uint64_t seconds = 0;
  if (state->stamp.present && !ScalarDigits(state->stamp, 19, &seconds)) {
    return FeedFieldError("publishDateStamp", "not Unix seconds: " + Shown(state->stamp));
  }
  return absl::OkStatus();
}

absl::Status ReadAge(ondemand::value& value, StringStore& strings, CaseState* state) {
  Scalar scalar;
  SHIXIN_RETURN_IF_ERROR(ReadScalar(value, "age", strings, &scalar));
  uint64_t age = 0;
  if (scalar.present && (!ScalarDigits(scalar, 3, &age) || age > 150)) {
    return FeedFieldError("age", "not an age 0-150: " + Shown(scalar));
  }
  state->out->age = static_cast<uint8_t>(age);
  return absl::OkStatus();
}

absl::Status ReadSex(ondemand::value& value, StringStore& strings, CaseState* state) {
  std::optional<std::string_view> text;
  SHIXIN_RETURN_IF_ERROR(ReadString(value, "sexy", strings, &text));
  std::string_view sex = text.value_or("");
  if (sex == "男" || sex == "男性") {
    state->out->sex = Sex::kMale;
  } else if (sex == "女" || sex == "女性") {
    state->out->sex = Sex::kFemale;
  } else if (!sex.empty()) {
    return FeedFieldError("sexy", "unknown sex " + QuoteFeedValue(sex));
  }
  return absl::OkStatus();
}

// A key of the court's record: a plain text field (`text`) or one with its own reader.
struct CaseKey {
  std::string_view name;
  std::string_view CaseInput::*text;
  CaseReader read;
};

constexpr CaseKey kCaseKeys[] = {
    {"caseCode", &CaseInput::case_code, nullptr},
    {"iname", &CaseInput::name, nullptr},
    {"cardNum", nullptr, ReadCardNum},
    {"partyTypeName", nullptr, ReadPartyType},
    {"businessEntity", &CaseInput::business_entity, nullptr},
    {"courtName", &CaseInput::court, nullptr},
    {"areaName", &CaseInput::area, nullptr},
    {"gistId", &CaseInput::gist_id, nullptr},
    {"gistUnit", &CaseInput::gist_unit, nullptr},
    {"regDate", nullptr,
     [](ondemand::value& v, StringStore& s, CaseState* state) {
       return ReadDate(v, "regDate", s, &state->out->reg_date);
     }},
    {"publishDate", nullptr,
     [](ondemand::value& v, StringStore& s, CaseState* state) {
       return ReadDate(v, "publishDate", s, &state->out->publish_date);
     }},
    {"publishDateStamp", nullptr, ReadPublishStamp},
    {"termEnd", nullptr,
     [](ondemand::value& v, StringStore& s, CaseState* state) {
       return ReadDate(v, "termEnd", s, &state->out->term_end);
     }},
    {"duty", &CaseInput::duty, nullptr},
    {"performance", &CaseInput::performance, nullptr},
    {"performedPart", &CaseInput::performed_part, nullptr},
    {"unperformPart", &CaseInput::unperform_part, nullptr},
    {"disruptTypeName", &CaseInput::disrupt_type, nullptr},
    {"age", nullptr, ReadAge},
    {"sexy", nullptr, ReadSex},
};

// Reads the record's key `key`; returns false in `*known` for a key that is not the record's.
absl::Status ReadCaseField(std::string_view key, ondemand::value& value, StringStore& strings,
                           CaseState* state, bool* known) {
  const CaseKey* info = std::find_if(std::begin(kCaseKeys), std::end(kCaseKeys),
                                     [key](const CaseKey& k) { return k.name == key; });
  *known = info != std::end(kCaseKeys);
  if (!*known) return absl::OkStatus();  // the caller's to judge: a base list's feed adds keys
  if (info->read != nullptr) return info->read(value, strings, state);
  std::optional<std::string_view> text;
  SHIXIN_RETURN_IF_ERROR(ReadString(value, info->name, strings, &text));
  if (text) state->out->*info->text = *text;
  if (text && info->text == &CaseInput::court) state->has_court = true;
  return absl::OkStatus();
}

// Checks what only the whole record can tell: required fields, kind agreement, the stamp.
absl::Status FinishCase(const CaseState& state) {
  CaseInput* out = state.out;
  std::optional<SubjectKind> party = PartyKind(state.party);
  if (!state.card_error.ok()) {
    return party == SubjectKind::kPerson ? NotAPersonsIdError("cardNum") : state.card_error;
  }
  if (out->id.empty()) return FeedFieldError("cardNum", "missing");
  if (out->name.empty()) return FeedFieldError("iname", "missing or empty");
  out->case_code = TrimCaseCode(out->case_code);
  if (out->case_code.empty()) return FeedFieldError("caseCode", "missing or empty");
  if (!state.has_court) return FeedFieldError("courtName", "missing");
  if (party == SubjectKind::kPerson && out->id.kind() == IdKind::kCreditCode &&
      CreditCodeIsForeignerPermit(out->id)) {
    return FeedFieldError(
        "cardNum", absl::StrFormat("%s is both a valid credit code and a valid foreigner's "
                                   "permanent residence ID; shixin reads it as the credit code "
                                   "(an organisation's), and cannot list it for a person",
                                   out->id.Masked()));  // a person's ID: masked, as in every note
  }
  if (party && *party != out->id.subject_kind()) {
    return FeedFieldError(
        "partyTypeName",
        absl::StrFormat("%s (%s) contradicts cardNum (%s)%s%s", Shown(state.party),
                        SubjectKindName(*party), IdKindName(out->id.kind()),
                        *party == SubjectKind::kPerson ? "; a person's ID is " : "",
                        *party == SubjectKind::kPerson ? kPersonIds : ""));
  }
  uint64_t seconds = 0;
  if (out->publish_date == 0 && state.stamp.present && ScalarDigits(state.stamp, 19, &seconds)) {
    // Year 2100 ends before 4.2e9 s; larger values are millisecond stamps or garbage. The day
    // is China Standard Time's, as the feed's dates are: 1562947200 is 2019-07-13T00:00+08:00.
    std::optional<uint32_t> date;
    if (seconds < uint64_t{4200000000}) {
      absl::CivilDay day =
          absl::ToCivilDay(absl::FromUnixSeconds(static_cast<int64_t>(seconds)), ChinaTime());
      date = MakeDate(day.year(), day.month(), day.day());
    }
    if (!date) return FeedFieldError("publishDateStamp", "out of range: " + Shown(state.stamp));
    out->publish_date = *date;
  }
  if (out->term_end != 0 && out->term_end < out->publish_date) {
    return FeedFieldError("termEnd",
                          absl::StrCat(FormatDate(out->term_end), " is before publishDate ",
                                       FormatDate(out->publish_date)));
  }
  if (out->publish_date != 0) {
    SHIXIN_RETURN_IF_ERROR(CheckOfAge(out->id, out->publish_date,
                                      absl::StrCat("publishDate ", FormatDate(out->publish_date))));
  }
  out->start = out->publish_date == 0 ? 0 : DayStart(out->publish_date);
  return absl::OkStatus();
}

// Returns the key of `field`. Keys without escapes (all that the feeds use) are read in place,
// which saves unescaped_key()'s copy.
simdjson::error_code FieldKey(ondemand::field& field, const char* end, std::string_view* key) {
  const char* raw = field.key().raw();
  const char* p = raw;
  while (p < end && *p != '"' && *p != '\\') ++p;
  if (p == end || *p == '\\') return field.unescaped_key().get(*key);
  *key = std::string_view(raw, p - raw);
  return simdjson::SUCCESS;
}

}  // namespace

// The keys of one object seen so far, to refuse one given twice: a hash set, so that a line of
// n keys is checked in O(n); and those the parse did not read, in the line's order. Their views
// live as long as the document (the text or the parser's string buffer).
struct ingest_internal::LineKeys {
  absl::flat_hash_set<std::string_view> seen;
  std::vector<std::string_view> unread;

  // Notes `key` as unread if `keys` is not null.
  static void Unread(LineKeys* keys, std::string_view key) {
    if (keys != nullptr) keys->unread.push_back(key);
  }
};

namespace {

// Iterates the top-level object in [data, data + len) and calls `on_field` with each key and
// value. With `line_keys` (cleared first), a key given twice is refused. REQUIRES: capacity >= len
// + kPadding bytes are readable at `data`.
template <typename OnField>
absl::Status IterateObject(ondemand::parser& parser, const char* data, size_t len, size_t capacity,
                           OnField on_field, LineKeys* line_keys = nullptr) {
  if (line_keys != nullptr) {
    line_keys->seen.clear();
    line_keys->unread.clear();
  }
  const std::string_view text(data, len);
  ondemand::document doc;
  if (auto error = parser.iterate(data, len, capacity).get(doc)) {
    return LineError(text, JsonReason(error));
  }
  ondemand::object object;
  if (auto error = doc.get_object().get(object)) {
    return LineError(text,
                     error == simdjson::INCORRECT_TYPE ? "not a JSON object" : JsonReason(error));
  }
  for (auto result : object) {
    ondemand::field field;
    std::string_view key;
    if (auto error = std::move(result).get(field)) return LineError(text, JsonReason(error));
    if (auto error = FieldKey(field, data + len, &key)) return LineError(text, JsonReason(error));
    if (line_keys != nullptr && !line_keys->seen.insert(key).second) {
      return absl::InvalidArgumentError(absl::StrCat("names key ", QuoteFeedValue(key), " twice"));
    }
    SHIXIN_RETURN_IF_ERROR(on_field(key, field.value()));
  }
  // current_location() fails with OUT_OF_BOUNDS exactly when nothing follows the object.
  const char* rest = nullptr;
  if (doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) {
    return LineError(text, "malformed JSON: trailing characters after the object");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ingest_internal::ParseCase(ondemand::parser& parser, const char* data, size_t len,
                                        size_t capacity, StringStore& strings, CaseInput* out,
                                        ExtraKeys extra, LineKeys* line_keys) {
  *out = CaseInput();
  CaseState state;
  state.out = out;
  std::fill(extra.values.begin(), extra.values.end(), std::nullopt);
  absl::Status status = IterateObject(
      parser, data, len, capacity,
      [&](std::string_view key, ondemand::value& v) {
        const auto it = std::find(extra.keys.begin(), extra.keys.end(), key);
        if (it == extra.keys.end()) {
          bool known = true;
          absl::Status read = ReadCaseField(key, v, strings, &state, &known);
          if (!known) LineKeys::Unread(line_keys, key);
          return read;
        }
        return ReadString(v, key, strings, &extra.values[it - extra.keys.begin()]);
      },
      line_keys);
  if (!status.ok()) return status;
  return FinishCase(state);
}

namespace {

// ---------------------------------------------------------------------------------------------
// Relations.

// Reads the strings at `keys` of the object in [data, data + len) into `values` (reset first).
// With `errors` (else empty), a key's value that is not a string goes to its error instead.
absl::Status ReadStringKeys(ondemand::parser& parser, const char* data, size_t len, size_t capacity,
                            StringStore& strings, std::span<const std::string_view> keys,
                            std::span<std::optional<std::string_view>> values,
                            std::span<absl::Status> errors = {}, LineKeys* line_keys = nullptr) {
  std::fill(values.begin(), values.end(), std::nullopt);
  std::fill(errors.begin(), errors.end(), absl::OkStatus());
  return IterateObject(
      parser, data, len, capacity,
      [&](std::string_view key, ondemand::value& v) {
        auto it = std::find(keys.begin(), keys.end(), key);
        if (it == keys.end()) {
          LineKeys::Unread(line_keys, key);
          return absl::OkStatus();
        }
        const size_t i = static_cast<size_t>(it - keys.begin());
        absl::Status status = ReadString(v, key, strings, &values[i]);
        if (status.ok() || errors.empty()) return status;
        errors[i] = std::move(status);
        return absl::OkStatus();
      },
      line_keys);
}

constexpr std::string_view kRelationKeys[] = {"orgId", "personId", "personName", "role"};
using RelationState = std::array<std::optional<std::string_view>, std::size(kRelationKeys)>;

absl::Status FinishRelation(const RelationState& state, PersonName person_name,
                            RelationInput* out) {
  const auto& [org, person, name, role_name] = state;
  if (!org) return FeedFieldError("orgId", "missing");
  SHIXIN_RETURN_IF_ERROR(ParseIdField("orgId", *org, &out->org));
  if (out->org.kind() == IdKind::kResident) {
    return FeedFieldError("orgId", "a resident ID; expected a credit code or organisation code");
  }
  if (!person) return FeedFieldError("personId", "missing");
  if (absl::Status parsed = ParseIdField("personId", *person, &out->person); !parsed.ok()) {
    return HasPersonIdShape(*person) ? parsed : NotAPersonsIdError("personId");
  }
  if (out->person.kind() != IdKind::kResident) {
    return FeedFieldError("personId", absl::StrFormat("a %s; expected %s",
                                                      IdKindName(out->person.kind()), kPersonIds));
  }
  if ((!name || name->empty()) && person_name == PersonName::kRequired) {
    return FeedFieldError("personName", "missing or empty");
  }
  out->person_name = name.value_or("");
  if (!role_name) return FeedFieldError("role", "missing");
  std::optional<Role> role = RoleFromName(*role_name);
  if (!role) return FeedFieldError("role", "unknown role " + QuoteFeedValue(*role_name));
  out->role = *role;
  return absl::OkStatus();
}

absl::Status ParseRelation(ondemand::parser& parser, const char* data, size_t len, size_t capacity,
                           StringStore& strings, PersonName person_name, RelationInput* out,
                           LineKeys* line_keys = nullptr) {
  *out = RelationInput();
  RelationState state;
  SHIXIN_RETURN_IF_ERROR(
      ReadStringKeys(parser, data, len, capacity, strings, kRelationKeys, state, {}, line_keys));
  return FinishRelation(state, person_name, out);
}

}  // namespace

absl::Status ingest_internal::ParseRequiredRelation(ondemand::parser& parser, const char* data,
                                                    size_t len, size_t capacity,
                                                    StringStore& strings, RelationInput* out) {
  return ParseRelation(parser, data, len, capacity, strings, PersonName::kRequired, out);
}

absl::Status CheckOfAge(const Id& id, uint32_t day, std::string_view when) {
  if (id.kind() != IdKind::kResident) return absl::OkStatus();
  // Of age on the 18th birthday; one born on 29 February on 1 March of a common year, which is
  // where CivilDay normalises 29 February.
  const absl::CivilDay born = id.BirthDate();
  const absl::CivilDay of_age(born.year() + 18, born.month(), born.day());
  if (absl::CivilDay(day / 10000, day / 100 % 100, day % 100) >= of_age) return absl::OkStatus();
  return FeedFieldError(
      "cardNum",
      absl::StrFormat("born %s, under 18 on %s (of age on %s): SPC rules Art. 4: minors are not "
                      "listed",
                      absl::FormatCivilTime(born), when, absl::FormatCivilTime(of_age)));
}

absl::Status FeedFieldError(std::string_view field, std::string_view reason) {
  return absl::InvalidArgumentError(absl::StrFormat("%s: %s", field, reason));
}

std::string QuoteFeedValue(std::string_view value) {
  if (value.size() > 40) return absl::StrFormat("(%d bytes)", value.size());
  return absl::StrCat("\"", TerminalSafe(value), "\"");
}

struct RecordParser::Impl {
  ondemand::parser parser;
  std::string padded;     // the line, then kPadding zeros
  std::string_view json;  // the line as given to Load()
  bool unique_keys = false;
  LineKeys keys;  // if unique_keys: the line's keys

  LineKeys* line_keys() { return unique_keys ? &keys : nullptr; }
};

RecordParser::RecordParser(bool unique_keys) : impl_(std::make_unique<Impl>()) {
  impl_->unique_keys = unique_keys;
}
RecordParser::~RecordParser() = default;

void RecordParser::Load(std::string_view json) {
  impl_->json = json;
  impl_->padded.resize(json.size() + kPadding);
  json.copy(impl_->padded.data(), json.size());
  std::memset(impl_->padded.data() + json.size(), 0, kPadding);
}

absl::Status RecordParser::StringFields(std::span<const std::string_view> keys,
                                        std::span<std::optional<std::string_view>> values,
                                        std::string* scratch, std::span<absl::Status> errors) {
  Impl& m = *impl_;
  StringStore strings(scratch, m.padded.data(), m.json.data(), m.json.size());
  return ReadStringKeys(m.parser, m.padded.data(), m.json.size(), m.padded.size(), strings, keys,
                        values, errors, m.line_keys());
}

absl::StatusOr<CaseInput> RecordParser::Case(std::string* scratch,
                                             std::span<const std::string_view> keys,
                                             std::span<std::optional<std::string_view>> values) {
  assert(keys.size() == values.size());
  Impl& m = *impl_;
  StringStore strings(scratch, m.padded.data(), m.json.data(), m.json.size());
  CaseInput out;
  SHIXIN_RETURN_IF_ERROR(ParseCase(m.parser, m.padded.data(), m.json.size(), m.padded.size(),
                                   strings, &out, ExtraKeys{keys, values}, m.line_keys()));
  return out;
}

absl::StatusOr<RelationInput> RecordParser::Relation(std::string* scratch, PersonName person_name) {
  Impl& m = *impl_;
  StringStore strings(scratch, m.padded.data(), m.json.data(), m.json.size());
  RelationInput out;
  SHIXIN_RETURN_IF_ERROR(ParseRelation(m.parser, m.padded.data(), m.json.size(), m.padded.size(),
                                       strings, person_name, &out, m.line_keys()));
  return out;
}

std::span<const std::string_view> RecordParser::UnreadKeys() const {
  return impl_->unique_keys ? std::span<const std::string_view>(impl_->keys.unread)
                            : std::span<const std::string_view>();
}

absl::StatusOr<CaseInput> ParseCaseRecord(std::string_view json, std::string* scratch) {
  RecordParser parser;
  parser.Load(json);
  return parser.Case(scratch);
}

absl::StatusOr<RelationInput> ParseRelationRecord(std::string_view json, std::string* scratch,
                                                  PersonName person_name) {
  RecordParser parser;
  parser.Load(json);
  return parser.Relation(scratch, person_name);
}

absl::Status ParseStringFields(std::string_view json, std::span<const std::string_view> keys,
                               std::span<std::optional<std::string_view>> values,
                               std::string* scratch) {
  RecordParser parser;
  parser.Load(json);
  return parser.StringFields(keys, values, scratch);
}

std::optional<uint32_t> ParseFeedDate(std::string_view text) { return ParseDate(text, nullptr); }

}  // namespace shixin
