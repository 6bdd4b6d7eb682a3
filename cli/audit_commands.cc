#include "cli/audit_commands.h"

#include <cstdio>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "audit/format.h"
#include "audit/node_id.h"
#include "audit/reader.h"
#include "audit/receipt.h"
#include "base/terminal.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "core/id.h"
#include "core/validity.h"
#include "nlohmann/json.hpp"
#include "protocol/wire.h"
#include "report/calendar.h"

namespace shixin {
namespace {

using audit::Entry;
using audit::RecordType;

const std::vector<FlagSpec> kVerifyFlags = {{"json", false}, {"retention-days", true, true}};
// Over a century: surely not a number of days meant.
constexpr uint64_t kMaxRetentionDays = 36525;
const std::vector<FlagSpec> kQueryFlags = {{"subject", true}, {"caller", true}, {"receipt", true},
                                           {"from", true},    {"to", true},     {"json", false}};

// Dates and times of the audit are shown and read in China Standard Time (UTC+8, no DST).

std::string FormatMicros(int64_t micros) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6S%Ez", absl::FromUnixMicros(micros), ChinaTime());
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int RunVerify(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> flags = Flags::Parse(args, kVerifyFlags);
  if (!flags.ok()) return UsageError("audit verify", flags.status());
  if (flags->positional().size() != 1) {
    return UsageError("audit verify", absl::InvalidArgumentError("expected one audit directory"));
  }
  const std::string& dir = flags->positional()[0];
  absl::StatusOr<uint64_t> retention = flags->GetUint("retention-days", 0);
  if (retention.ok() && *retention > kMaxRetentionDays) {
    retention = absl::InvalidArgumentError(
        absl::StrCat("--retention-days ", *retention, ": at most ", kMaxRetentionDays));
  }
  if (!retention.ok()) return UsageError("audit verify", retention.status());
  audit::VerifyOptions options;
  options.retention_days = static_cast<int>(*retention);
  absl::StatusOr<audit::VerifyReport> r = audit::Verify(dir, options);
  if (!r.ok()) return LoadFailed("audit verify", r.status());
  const bool intact = r->problems.empty();
  if (flags->Has("json")) {
    nlohmann::json streams = nlohmann::json::array();
    for (const audit::VerifyReport::Stream& st : r->streams) {
      streams.push_back({{"stream", st.stream},
                         {"segments", st.segments},
                         {"first_segment", st.first_segment},
                         {"records", st.records},
                         {"first_sequence", st.first_sequence},
                         {"last_sequence", st.last_sequence},
                         {"sealed_sequence", st.sealed_sequence},
                         {"chain", audit::ChainText(st.last_chain)},
                         {"chain_start_cut", st.chain_start_cut}});
    }
    nlohmann::json j = {{"dir", dir},
                        {"segments", r->segments},
                        {"records", r->records},
                        {"queries", r->queries},
                        {"feedbacks", r->feedbacks},
                        {"bytes", r->bytes},
                        {"streams", streams},
                        {"chain_intact", intact},
                        {"problems", r->problems},
                        {"time_anomalies", r->time_anomalies},
                        {"notes", r->notes}};
    std::printf("%s\n", Dump(j).c_str());
    return intact ? kExitOk : kExitInvalidId;
  }
  std::printf("audit     %s\n", dir.c_str());
  std::printf("segments  %llu\n", static_cast<unsigned long long>(r->segments));
  std::printf("records   %llu (%llu queries, %llu feedbacks)\n",
              static_cast<unsigned long long>(r->records),
              static_cast<unsigned long long>(r->queries),
              static_cast<unsigned long long>(r->feedbacks));
  std::printf("bytes     %llu\n", static_cast<unsigned long long>(r->bytes));
  // A stream a line: its segments and sequence numbers (each stream has its own chain).
  for (const audit::VerifyReport::Stream& st : r->streams) {
    std::string line =
        absl::StrFormat("stream    %u: %u segments from %s, %u records", st.stream, st.segments,
                        audit::SegmentFileName(st.first_segment), st.records);
    if (st.records > 0) {
      absl::StrAppendFormat(&line, ", sequence %u..%u", st.first_sequence, st.last_sequence);
    }
    if (st.chain_start_cut) absl::StrAppend(&line, " (older segments removed by retention)");
    std::printf("%s\n", line.c_str());
  }
  // Each stream's last chain value: a copy kept elsewhere shows a later rewrite of the records
  // it covers, even with every checksum and seal recomputed.
  for (const audit::VerifyReport::Stream& st : r->streams) {
    std::printf("seal      stream %u through seq=%llu: %s\n", st.stream,
                static_cast<unsigned long long>(st.sealed_sequence),
                audit::ChainText(st.last_chain).c_str());
  }
  const std::string chain = intact
                                ? "intact"
                                : absl::StrCat("BROKEN (", r->problems.size(),
                                               r->problems.size() >= 100 ? "+" : "", " problems)");
  std::printf("chain     %s\n", chain.c_str());
  // Apart from the chain: the times a chain covers are as written (a clock set back).
  if (!r->time_anomalies.empty()) {
    std::printf("times     %zu anomalies (the writer's clock went back; the chain covers them)\n",
                r->time_anomalies.size());
  }
  for (const std::string& time : r->time_anomalies) std::printf("time      %s\n", time.c_str());
  for (const std::string& note : r->notes) std::printf("note      %s\n", note.c_str());
  for (const std::string& problem : r->problems) std::printf("problem   %s\n", problem.c_str());
  return intact ? kExitOk : kExitInvalidId;
}

// Returns the instant a date (YYYY-MM-DD, China time) starts; `end` adds a day (an inclusive
// --to).
absl::StatusOr<int64_t> DateMicros(std::string_view flag, const std::string& text, bool end) {
  absl::StatusOr<absl::CivilDay> day = report::ParseDay(text);
  if (!day.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat("--%s: %s", flag, day.status().message()));
  }
  return absl::ToUnixMicros(absl::FromCivil(*day + (end ? 1 : 0), ChinaTime()));
}

std::string MeasureList(const std::vector<uint16_t>& measures) {
  return absl::StrJoin(measures, ",");
}

constexpr std::string_view ListingName(audit::Listing listing) {
  switch (listing) {
    case audit::Listing::kUnlisted:
      return "unlisted";
    case audit::Listing::kListed:
      return "listed";
    case audit::Listing::kRelated:
      return "related";
  }
  return "unknown";
}

nlohmann::json EntryJson(const Entry& e) {
  const std::string receipt = e.receipt.ToString();
  if (e.type == RecordType::kQuery) {
    const audit::QueryRecord& q = e.query;
    return {{"type", "query"},
            {"sequence", q.sequence},
            {"time", FormatMicros(q.time_micros)},
            {"receipt", receipt},
            {"receipt_issued", q.receipt_issued},
            {"opcode", q.opcode},
            {"caller", q.caller},
            {"operator", q.operator_id},
            {"matter", q.matter},
            {"purpose", q.purpose},
            {"subject", q.subject},
            {"kind", q.kind == 0 ? "person" : "organization"},
            {"listing", ListingName(q.listing)},
            {"agency", q.agency_filter},
            {"scenario", q.scenario_filter},
            {"as_of", q.as_of},
            {"list_version", audit::ListVersionText(q)},
            {"generation", q.generation},
            {"delta_sequence", q.delta_sequence},
            {"measures", q.measures}};
  }
  const audit::FeedbackRecord& f = e.feedback;
  nlohmann::json entries = nlohmann::json::array();
  for (const audit::FeedbackEntry& x : f.entries) {
    entries.push_back(
        {{"measure", x.measure}, {"outcome", audit::OutcomeName(x.outcome)}, {"reason", x.reason}});
  }
  return {{"type", "feedback"},
          {"sequence", f.sequence},
          {"time", FormatMicros(f.time_micros)},
          {"receipt", receipt},
          {"for_receipt", f.receipt},
          {"caller", f.caller},
          {"operator", f.operator_id},
          {"entries", entries}};
}

// Returns `text` a caller sent, quoted and escaped (TerminalSafe): a value with a blank or an
// `=` cannot pass for more fields of the line (x34 F4: an operator "a matter=X subject=Y").
std::string Quoted(std::string_view text) { return absl::StrCat("\"", TerminalSafe(text), "\""); }

std::string EntryText(const Entry& e) {
  const std::string receipt = e.receipt.ToString();
  if (e.type == RecordType::kQuery) {
    const audit::QueryRecord& q = e.query;
    // What callers sent (operator, matter, purpose) is made safe: one record a line, no
    // escape sequence reaching the terminal.
    // A record whose receipt the answer did not carry (DETAIL, an unlisted CHECK, protocol
    // 1-3) is named record=, not receipt=: the caller never saw it.
    std::string line = absl::StrFormat(
        "%s query seq=%u %s=%s caller=%s operator=%s matter=%s subject=%s %s measures=%s "
        "version=%s generation=%u op=%s",
        FormatMicros(q.time_micros), q.sequence, q.receipt_issued ? "receipt" : "record", receipt,
        TerminalSafe(q.caller), Quoted(q.operator_id), Quoted(q.matter), q.subject,
        ListingName(q.listing), MeasureList(q.measures), audit::ListVersionText(q), q.generation,
        std::string(wire::OpcodeName(static_cast<wire::Opcode>(q.opcode))));
    if (q.as_of != 0) absl::StrAppend(&line, " as_of=", FormatInstant(q.as_of));
    if (!q.agency_filter.empty()) absl::StrAppend(&line, " agency=", TerminalSafe(q.agency_filter));
    if (!q.scenario_filter.empty()) {
      absl::StrAppend(&line, " scenario=", TerminalSafe(q.scenario_filter));
    }
    if (!q.purpose.empty()) absl::StrAppend(&line, " purpose=", Quoted(q.purpose));
    return line;
  }
  const audit::FeedbackRecord& f = e.feedback;
  std::string line = absl::StrFormat(
      "%s feedback seq=%u receipt=%s for=%s caller=%s operator=%s", FormatMicros(f.time_micros),
      f.sequence, receipt, TerminalSafe(f.receipt), TerminalSafe(f.caller), Quoted(f.operator_id));
  for (const audit::FeedbackEntry& x : f.entries) {
    absl::StrAppend(&line, " ", x.measure, "=", std::string(audit::OutcomeName(x.outcome)));
    if (!x.reason.empty()) absl::StrAppend(&line, "(", Quoted(x.reason), ")");
  }
  return line;
}

// What `audit query` selects. `subject` is a SubjectKey: an organisation is matched however it
// was asked (its organisation code or the credit code embedding it).
struct Selection {
  std::optional<std::string> subject, caller, receipt;
  // When `receipt` is a feedback record's: the receipt of the query it reports on.
  std::optional<std::string> reported_on;

  // A receipt selects its record, the query a feedback record reports on, and the feedback on
  // a query.
  bool MatchesReceipt(const Entry& e) const {
    const std::string own = e.receipt.ToString();
    if (e.type == RecordType::kQuery) return own == *receipt || own == reported_on;
    return own == *receipt || e.feedback.receipt == *receipt;
  }

  bool Matches(const Entry& e) const {
    const bool query = e.type == RecordType::kQuery;
    if (subject && !(query && SubjectKey(e.query.subject, static_cast<SubjectKind>(e.query.kind)) ==
                                  *subject)) {
      return false;
    }
    if (caller && (query ? e.query.caller : e.feedback.caller) != *caller) return false;
    return !receipt || MatchesReceipt(e);
  }
};

int RunQuery(const std::vector<std::string>& args) {
  constexpr std::string_view kCommand = "audit query";
  absl::StatusOr<Flags> flags = Flags::Parse(args, kQueryFlags);
  if (!flags.ok()) return UsageError(kCommand, flags.status());
  if (flags->positional().size() != 1) {
    return UsageError(kCommand, absl::InvalidArgumentError("expected one audit directory"));
  }
  Selection select{flags->Get("subject"), flags->Get("caller"), flags->Get("receipt"), {}};
  if (!select.subject && !select.caller && !select.receipt) {
    return UsageError(
        kCommand, absl::InvalidArgumentError("one of --subject, --caller, --receipt is needed"));
  }
  if (select.subject) {
    // Records hold the normalised ID: accept the forms `check` accepts.
    absl::StatusOr<Id> id = ParseId(*select.subject);
    if (!id.ok()) {  // it would match no record
      return UsageError(kCommand, absl::InvalidArgumentError(absl::StrFormat(
                                      "--subject %s: %s", *select.subject, id.status().message())));
    }
    select.subject = std::string(SubjectKey(id->text(), id->subject_kind()));
  }
  if (select.receipt) {
    absl::StatusOr<audit::ParsedReceipt> receipt =
        audit::ParseAuditReceipt(flags->positional()[0], *select.receipt);
    if (absl::IsInvalidArgument(receipt.status())) return UsageError(kCommand, receipt.status());
    // A receipt with no record (forged, mistyped, another node's) is said, not an empty answer.
    absl::StatusOr<audit::OwnedRecord> record =
        receipt.ok() ? audit::LookUpRecord(flags->positional()[0], receipt->receipt)
                     : absl::StatusOr<audit::OwnedRecord>(receipt.status());
    if (absl::IsNotFound(record.status())) {
      std::fprintf(stderr, "shixin %s: %s\n", std::string(kCommand).c_str(),
                   std::string(record.status().message()).c_str());
      return kExitInvalidId;
    }
    if (!record.ok()) return LoadFailed(kCommand, record.status());
    if (record->type == RecordType::kFeedback) {
      select.reported_on = std::string(record->feedback.receipt);
    }
    select.receipt = receipt->receipt.ToString();  // records name receipts by position
  }
  audit::ReadOptions range;
  for (const auto& [flag, end] : {std::pair<std::string_view, bool>{"from", false}, {"to", true}}) {
    if (std::optional<std::string> text = flags->Get(flag)) {
      absl::StatusOr<int64_t> micros = DateMicros(flag, *text, end);
      if (!micros.ok()) return UsageError(kCommand, micros.status());
      (end ? range.to_micros : range.from_micros) = *micros;
    }
  }
  if (range.from_micros >= range.to_micros) {
    return UsageError(kCommand, absl::InvalidArgumentError("--from is after --to"));
  }
  const bool json = flags->Has("json");
  audit::ReadCheck check;
  const absl::Status status = audit::ForEachRecord(
      flags->positional()[0], range,
      [&](const Entry& e) {
        if (!select.Matches(e)) return true;
        const std::string line = json ? Dump(EntryJson(e)) : EntryText(e);
        std::printf("%s\n", line.c_str());
        return true;
      },
      &check);
  if (!status.ok()) return LoadFailed(kCommand, status);
  // The records printed are as they are in the files: a damaged audit is said, not hidden.
  for (const std::string& problem : check.problems) {
    std::fprintf(stderr, "shixin audit query: damaged audit: %s\n", problem.c_str());
  }
  if (!check.problems.empty()) {
    std::fprintf(stderr,
                 "shixin audit query: the records printed may not be as written (run `shixin audit "
                 "verify`)\n");
  }
  return kExitOk;
}

}  // namespace

int RunAudit(const std::vector<std::string>& args) {
  const std::string sub = args.empty() ? "" : args[0];
  const std::vector<std::string> rest(args.empty() ? args.end() : args.begin() + 1, args.end());
  if (sub == "verify") return RunVerify(rest);
  if (sub == "query") return RunQuery(rest);
  return UsageError("audit", absl::InvalidArgumentError("expected verify or query"));
}

}  // namespace shixin
