// The handler's list queries, each audited: CHECK, MEASURES, DETAIL, and the FEEDBACK on
// their receipts (daemon/handler.h describes the protocol; handler.cc dispatches to these).
#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "callers/caller_table.h"
#include "core/id.h"
#include "core/list.h"
#include "core/masking.h"
#include "core/query.h"
#include "daemon/check_lookahead.h"
#include "daemon/handler.h"
#include "daemon/handler_outcome.h"
#include "daemon/log.h"
#include "protocol/messages.h"
#include "protocol/operator_messages.h"

namespace shixin {
namespace {

// Returns how many roles the person `s` holds at `at` in organisations listed at `at` (0 for
// organisations).
uint16_t ListedRoles(const ListView& list, SubjectRef s, int64_t at) {
  if (list.Kind(s) != SubjectKind::kPerson) return 0;
  uint32_t n = 0;
  list.ForEachRole(s, at, [&](const RoleLink& link) {
    if (link.other.found() && list.IsListed(link.other, at)) ++n;
  });
  return static_cast<uint16_t>(std::min<uint32_t>(n, 0xFFFF));
}

// Returns why the catalog does not know the agency or scenario (`what`) `given`, quoting it;
// `known_trimmed` says that it would, without the white space around it (which a name or id
// never has: the request's text is looked up as it is sent).
std::string UnknownFilter(std::string_view what, std::string_view given, bool known_trimmed) {
  return absl::StrFormat("unknown %s \"%s\"%s", what, Printable(given),
                         known_trimmed ? " (the white space around it is not part of any)" : "");
}

// Scratch space of the CHECK path, reused across requests on a thread.
struct CheckScratch {
  wire::CheckRequestView request;  // the IDs: views into the request's payload
  std::vector<Id> ids;             // the valid IDs, in order
  std::vector<SubjectRef> found;   // FindBatch's answers
  std::vector<EntityNo> base;      // FindBatch's scratch
  std::vector<int32_t> slot;       // per input: index into ids, or -1 - index into errors
  std::vector<std::string> errors;
  std::string masked_name;  // the answer's name, masked
  std::string receipt;      // the answer's receipt
};

// What a request refused for the audit is told, whoever asks and whatever failed.
constexpr std::string_view kAuditRefused =
    "the audit cannot be written; MEASURES and FEEDBACK are refused until it can be";

// The subject kind of an ID the list does not know: a resident ID is a person's.
uint8_t KindOf(const Id& id) {
  return static_cast<uint8_t>(id.kind() == IdKind::kResident ? SubjectKind::kPerson
                                                             : SubjectKind::kOrganization);
}

}  // namespace

void Handler::Audit(audit::QueryRecord* record, const wire::RequestContext& context,
                    const Dataset& d, Session& session, std::string* receipt, absl::Status* failed,
                    bool officer) const {
  receipt->clear();
  if (auditor_ == nullptr) return;
  if (session.audit_replay) {  // the turn's records were lost: answer as the failing audit
    *failed = absl::UnavailableError("the audit cannot be written");
    return;
  }
  record->caller = session.grant->caller.id;
  record->operator_id = context.operator_id;
  record->matter = context.matter;
  record->purpose = context.purpose;
  record->list_version = d.snapshot->info().version;
  record->generation = d.generation;
  record->delta_sequence = d.sequence;
  // Version 4 answers carry receipts: every MEASURES, and CHECK for listed and related IDs; a
  // MEASURES' officers' records none (the answer carries its subject's).
  const auto op = static_cast<wire::Opcode>(record->opcode);
  record->receipt_issued =
      session.version >= 4 && !officer &&
      (op == wire::Opcode::kMeasures ||
       (op == wire::Opcode::kCheck && record->listing != audit::Listing::kUnlisted));
  absl::StatusOr<audit::AuditLog::Appended> appended = auditor_->Record(record);
  if (!appended.ok()) {
    *failed = appended.status();
    return;
  }
  session.audit_ticket = std::max(session.audit_ticket, appended->ticket);
  if (record->receipt_issued) auditor_->AppendReceipt(appended->receipt, receipt);
}

std::optional<Handler::Outcome> Handler::InstantOf(int64_t as_of, const Dataset& d,
                                                   int64_t* at) const {
  const int64_t now = clock_();
  *at = now;
  if (as_of == wire::kAsOfNow) return std::nullopt;
  if (absl::Status s = ValidateAsOf(as_of, now, static_cast<int>(config_.history_days),
                                    d.snapshot->history_from());
      !s.ok()) {
    return Outcome::FromCore(s);
  }
  *at = as_of;
  return std::nullopt;
}

Handler::Outcome Handler::CheckBatch(std::string_view payload, const Dataset& d, Session& session,
                                     std::string* out) const {
  const uint8_t version = session.version;
  const bool masked = session.grant->caller.view == View::kMasked;
  thread_local CheckScratch s;
  wire::CheckRequestView* request = &s.request;
  if (absl::Status decoded = wire::DecodeCheckRequest(payload, version, request); !decoded.ok()) {
    return Outcome::BadPayload(wire::Opcode::kCheck, decoded);
  }
  const size_t n = request->ids.size();
  if (n == 0 || n > config_.max_batch) {
    return Outcome::FromCore(absl::InvalidArgumentError(
        absl::StrFormat("CHECK of %d IDs: send 1 to %d", n, config_.max_batch)));
  }
  int64_t at = 0;
  if (std::optional<Outcome> refused = InstantOf(request->as_of, d, &at)) {
    return *std::move(refused);
  }
  s.ids.clear();
  s.slot.clear();
  s.errors.clear();
  const absl::CivilDay today = UtcDayAt(request->as_of == wire::kAsOfNow ? at : clock_());
  const ListView list = d.list();
  LookedAhead& ahead = ThreadLookedAhead();
  if (const LookedAhead::Frame* f = ahead.Take(session, payload, d.generation, today);
      f != nullptr && f->count == n) {
    // Parsed and looked up with the turn's other frames (daemon/check_lookahead.h).
    const std::span<const Id> ids(ahead.ids().data() + f->first, n);
    const std::span<const SubjectRef> found(ahead.found().data() + f->first, n);
    s.ids.assign(ids.begin(), ids.end());
    s.found.assign(found.begin(), found.end());
    for (size_t i = 0; i < n; ++i) s.slot.push_back(static_cast<int32_t>(i));
  } else {
    for (std::string_view input : request->ids) {
      absl::StatusOr<Id> id = ParseId(input, today);
      if (id.ok()) {
        s.slot.push_back(static_cast<int32_t>(s.ids.size()));
        s.ids.push_back(*id);
      } else {
        s.slot.push_back(-1 - static_cast<int32_t>(s.errors.size()));
        s.errors.emplace_back(id.status().message());
      }
    }
    s.found.resize(s.ids.size());
    s.base.resize(s.ids.size());
    list.FindBatch(s.ids, s.found, s.base);
    list.PrefetchAnswers(s.found);
  }
  wire::AppendCheckCount(static_cast<uint16_t>(n), out);
  for (size_t index = 0; index < n; ++index) {
    const int32_t slot = s.slot[index];
    wire::CheckAnswer a;
    if (slot < 0) {
      a.status = wire::CheckStatus::kInvalid;
      a.error = s.errors[-1 - slot];
      wire::AppendCheckAnswer(a, out, version);
      continue;
    }
    a.id = s.ids[slot].text();
    const SubjectRef e = s.found[slot];
    const std::optional<Interval> listing =
        e.found() ? list.ListingAt(e, at) : std::optional<Interval>();
    const bool listed = listing.has_value();
    const bool related = !listed && e.found() && list.IsRelated(e, at);  // listed comes first
    if (!listed && !related) {
      a.status = wire::CheckStatus::kUnlisted;
    } else {
      a.status = listed ? wire::CheckStatus::kListed : wire::CheckStatus::kRelated;
      a.kind = list.Kind(e);
      // The subject's case records, counting now or not (reading which count would read them).
      a.cases = listed ? static_cast<uint16_t>(std::min<uint32_t>(list.CaseCount(e), 0xFFFF)) : 0;
      a.roles = ListedRoles(list, e, at);
      a.name = list.Name(e);
      // A related person who is not listed is not on the public list: a masked caller sees
      // the first character of the name only (core/masking.h).
      if (masked && !listed) {
        s.masked_name = MaskName(a.name);
        a.name = s.masked_name;
      }
      if (session.whole_names != nullptr && a.name.size() > 0xFF) {
        session.whole_names->emplace_back(index, a.name);
      }
      if (listed) {
        a.since = listing->from;
        a.until = listing->until;
      }
    }
    if (auditor_ != nullptr) {
      audit::QueryRecord record;
      record.opcode = static_cast<uint8_t>(wire::Opcode::kCheck);
      record.subject = a.id;
      record.kind = e.found() ? static_cast<uint8_t>(list.Kind(e)) : KindOf(s.ids[slot]);
      record.listing = static_cast<audit::Listing>(a.status);
      record.as_of = request->as_of;
      absl::Status failed;  // CHECK answers without a receipt while the audit fails
      Audit(&record, request->context, d, session, &s.receipt, &failed);
      a.receipt = s.receipt;
    }
    wire::AppendCheckAnswer(a, out, version);
  }
  return Outcome::Ok();
}

Handler::Outcome Handler::MeasuresOf(std::string_view payload, const Dataset& d, bool stale,
                                     Session& session, std::string* out) const {
  const uint8_t version = session.version;
  absl::StatusOr<wire::MeasuresRequest> request = wire::DecodeMeasuresRequest(payload, version);
  if (!request.ok()) return Outcome::BadPayload(wire::Opcode::kMeasures, request.status());
  if (stale && config_.refuse_stale) {
    // Fail closed: a measure decision must not rest on an outdated list.
    return Outcome::FromCore(absl::FailedPreconditionError(absl::StrFormat(
        "the list is older than %d seconds; measures are refused until it is refreshed",
        config_.max_age_seconds)));
  }
  absl::StatusOr<Id> id = ParseId(request->id);
  if (!id.ok()) return Outcome::Error(wire::Status::kInvalidId, std::string(id.status().message()));
  MeasureQuery query;
  // The caller's agencies and scenarios are its default filter when the request names neither;
  // one that names either asks exactly that (a bank asking the police's measures must not get
  // them narrowed to bank credit). FORMAT.md 8.3.
  const bool by_default = request->agency.empty() && request->scenario.empty();
  if (!request->agency.empty()) {
    query.agency = d.catalog.FindAgency(request->agency);
    if (query.agency < 0) {
      const bool trimmed = d.catalog.FindAgency(TrimSpaces(request->agency)) >= 0;
      return Outcome::FromCore(
          absl::InvalidArgumentError(UnknownFilter("agency", request->agency, trimmed)));
    }
  }
  const Caller& caller = session.grant->caller;
  if (!request->scenario.empty()) {
    query.scenario = d.catalog.FindScenario(request->scenario);
    if (query.scenario < 0) {
      const bool trimmed = d.catalog.FindScenario(TrimSpaces(request->scenario)) >= 0;
      return Outcome::FromCore(
          absl::InvalidArgumentError(UnknownFilter("scenario", request->scenario, trimmed)));
    }
  } else if (by_default) {
    // Checked against the catalog when the callers file was read.
    query.scenarios = DefaultScenarioMask(caller, d.catalog);
  }
  for (size_t i = 0; i < request->officers.size(); ++i) {
    const auto& [role, text] = request->officers[i];
    absl::StatusOr<Id> officer = ParseId(text);
    if (!officer.ok()) {
      return Outcome::FromCore(absl::InvalidArgumentError(absl::StrFormat(
          "officer %d (%s): %s", i + 1, RoleName(role), officer.status().message())));
    }
    query.officers.push_back(Officer{role, *officer});
  }
  if (std::optional<Outcome> refused = InstantOf(request->as_of, d, &query.at)) {
    return *std::move(refused);
  }
  // The catalog's texts are encoded from the catalog: no copy of them per measure; the
  // thread's vectors are reused: no allocation for them per answer.
  thread_local MeasureMatches result;
  if (absl::Status matched = MatchMeasures(d.list(), d.catalog, *id, query, &result);
      !matched.ok()) {
    return Outcome::FromCore(matched);
  }
  if (by_default && !caller.agencies.empty()) {
    std::erase_if(result.measures, [&](const MeasureMatch& m) {
      const std::string& agency = d.catalog.agencies()[m.measure->agency].id;
      return std::find(caller.agencies.begin(), caller.agencies.end(), agency) ==
             caller.agencies.end();
    });
  }
  Mask(caller.view, &result);
  thread_local std::string receipt;  // reused, as the record's measures: no allocation each
  receipt.clear();
  if (auditor_ != nullptr) {
    thread_local std::vector<uint16_t> numbers;
    audit::QueryRecord record;
    record.measures.swap(numbers);
    record.measures.clear();
    record.opcode = static_cast<uint8_t>(wire::Opcode::kMeasures);
    record.subject = result.subject.id;
    record.kind = static_cast<uint8_t>(result.subject.kind);
    record.listing = result.subject.listed    ? audit::Listing::kListed
                     : result.subject.related ? audit::Listing::kRelated
                                              : audit::Listing::kUnlisted;
    record.agency_filter = request->agency;
    record.scenario_filter = request->scenario;
    record.as_of = request->as_of;
    for (const MeasureMatch& m : result.measures) {
      record.measures.push_back(static_cast<uint16_t>(m.measure->no));
    }
    absl::Status failed;
    Audit(&record, request->context, d, session, &receipt, &failed);
    numbers.swap(record.measures);
    // Each officer the caller sent was looked up, and the answer's bases tell whether it is
    // listed or holds a role in a listed organisation: a query of that person, recorded after
    // the subject's (no measures, no receipt), so that the audit shows who was asked about.
    const ListView list = d.list();
    std::string no_receipt;
    for (const Officer& officer : query.officers) {
      if (!failed.ok()) break;
      audit::QueryRecord asked;
      asked.opcode = record.opcode;
      asked.subject = officer.id.text();
      const SubjectRef e = list.Find(officer.id);
      asked.kind = e.found() ? static_cast<uint8_t>(list.Kind(e)) : KindOf(officer.id);
      asked.listing = !e.found()                    ? audit::Listing::kUnlisted
                      : list.ListingAt(e, query.at) ? audit::Listing::kListed
                      : list.IsRelated(e, query.at) ? audit::Listing::kRelated
                                                    : audit::Listing::kUnlisted;
      asked.agency_filter = request->agency;
      asked.scenario_filter = request->scenario;
      asked.as_of = request->as_of;
      Audit(&asked, request->context, d, session, &no_receipt, &failed, /*officer=*/true);
    }
    if (!failed.ok() && auditor_->required()) {  // fail closed: no measure without its record
      // One text for every refusal: the reason names state_dir's files and the error, which
      // only an admin's INFO shows (FORMAT.md 15); the log has it too.
      return Outcome::Error(
          version >= 4 ? wire::Status::kAuditUnavailable : wire::Status::kUnavailable,
          std::string(kAuditRefused));
    }
  }
  // The measures' heads encoded once per catalog (by content: its fingerprint) and thread.
  thread_local std::unique_ptr<const wire::MeasureHeads> heads;
  if (heads == nullptr || heads->fingerprint() != d.catalog.fingerprint() ||
      heads->size() != d.catalog.measures().size()) {
    heads = std::make_unique<const wire::MeasureHeads>(d.catalog);
  }
  wire::Encode(result, *heads, out, version, receipt);
  return Outcome::Ok();
}

Handler::Outcome Handler::Feedback(std::string_view payload, const Dataset& d, Session& session,
                                   std::string* out) const {
  absl::StatusOr<wire::FeedbackRequest> request = wire::DecodeFeedbackRequest(payload);
  if (!request.ok()) return Outcome::BadPayload(wire::Opcode::kFeedback, request.status());
  if (auditor_ == nullptr) {
    return Outcome::Error(wire::Status::kAuditUnavailable, "no audit: the server has no state_dir");
  }
  if (session.audit_replay) {
    return Outcome::Error(wire::Status::kAuditUnavailable, std::string(kAuditRefused));
  }
  // The agency rule is checked after the receipt's owner (another caller's receipt is refused
  // as such, whatever it reports).
  const Caller& caller = session.grant->caller;
  absl::StatusOr<Auditor::Recorded> recorded = auditor_->Feedback(
      caller.id, *request,
      [&](uint16_t measure) { return CheckMayApply(caller, d.catalog, measure); });
  if (!recorded.ok()) {
    const std::string message(recorded.status().message());
    switch (recorded.status().code()) {
      case absl::StatusCode::kNotFound:
        return Outcome::Error(wire::Status::kNotFound, message);
      case absl::StatusCode::kUnavailable:  // the reason is for admins (INFO), as MEASURES'
        return Outcome::Error(wire::Status::kAuditUnavailable, std::string(kAuditRefused));
      case absl::StatusCode::kPermissionDenied:
        // Counted and logged as a scope refusal: a caller reporting on another agency's
        // receipt is probing the other agencies' records.
        access_->Deny(*session.grant);
        LogLimited(LogKind::kPermissionDenied, LogLevel::kWarning,
                   "caller \"%s\": FEEDBACK refused (%s)", caller.id, message);
        return Outcome::FromCore(recorded.status());
      default:
        return Outcome::FromCore(recorded.status());
    }
  }
  session.audit_ticket = std::max(session.audit_ticket, recorded->ticket);
  wire::Encode(recorded->response, out);
  return Outcome::Ok();
}

Handler::Outcome Handler::Detail(std::string_view payload, const Dataset& d, Session& session,
                                 std::string* out) const {
  const uint8_t version = session.version;
  absl::StatusOr<wire::DetailRequest> request = wire::DecodeDetailRequest(payload, version);
  if (!request.ok()) return Outcome::BadPayload(wire::Opcode::kDetail, request.status());
  absl::StatusOr<Id> id = ParseId(request->id);
  if (!id.ok()) return Outcome::Error(wire::Status::kInvalidId, std::string(id.status().message()));
  int64_t at = 0;
  if (std::optional<Outcome> refused = InstantOf(request->as_of, d, &at)) {
    return *std::move(refused);
  }
  absl::StatusOr<CheckResult> result = Check(d.list(), *id, at, /*with_cases=*/true);
  if (result.ok()) Mask(session.grant->caller.view, &*result);
  if (!result.ok()) {  // the snapshot file was changed in place: other requests keep working
    LogLimited(LogKind::kCaseData, LogLevel::kError, "DETAIL %s: %s: %s", id->Masked(),
               d.data_source, result.status().message());
    return Outcome::FromCore(result.status());
  }
  if (auditor_ != nullptr) {  // a look at a subject's cases is a query like CHECK's
    audit::QueryRecord record;
    record.opcode = static_cast<uint8_t>(wire::Opcode::kDetail);
    record.subject = result->id;
    record.kind = static_cast<uint8_t>(result->kind);
    record.listing = result->listed    ? audit::Listing::kListed
                     : result->related ? audit::Listing::kRelated
                                       : audit::Listing::kUnlisted;
    record.as_of = request->as_of;
    thread_local std::string no_receipt;  // DETAIL answers carry none (FORMAT.md 8.4)
    absl::Status failed;                  // answered while the audit fails, as CHECK is
    Audit(&record, wire::RequestContext{}, d, session, &no_receipt, &failed);
  }
  wire::Encode(*result, out, version);
  return Outcome::Ok();
}

}  // namespace shixin
