#include "report/quarterly.h"

#include <xxhash.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "audit/format.h"
#include "audit/node_id.h"
#include "audit/reader.h"
#include "audit/write_order.h"
#include "core/id.h"
#include "core/validity.h"

namespace shixin::report {
// Named, not anonymous: QuarterlyBuilder::Impl holds these, and GCC warns of a class with
// members of an anonymous namespace's types when the file is not the main one (a unity build).
namespace quarterly_internal {

struct ReceiptKey {
  uint32_t node;
  uint32_t segment;
  uint64_t offset;

  friend bool operator==(const ReceiptKey& a, const ReceiptKey& b) {
    return a.node == b.node && a.segment == b.segment && a.offset == b.offset;
  }
  template <typename H>
  friend H AbslHashValue(H h, const ReceiptKey& k) {
    return H::combine(std::move(h), k.node, k.segment, k.offset);
  }
};

// A receipt that returned measures: whose it is, which measures (numbers < 64), and whether
// any feedback named it.
struct ReceiptState {
  ReceiptKey key;
  uint32_t caller;  // index into Impl::callers
  bool has_feedback = false;
  bool keyed = false;  // its answer carried the keyed text (audit/receipt.h), not the position
  uint64_t measure_mask = 0;
};

// The latest feedback entry for one measure of one receipt.
struct Latest {
  audit::Outcome outcome;
  uint32_t reason;          // index into Impl::reasons
  audit::WriteOrder order;  // of the feedback record: the latest wins, whatever the reading order
};

// The distinct values of a stream of dense ids (interned subjects). Appending is sequential;
// sort and dedupe happen when the vector has doubled since the last time, so memory stays
// within twice the distinct count (or kMinCompact ids: there is one per caller and per caller
// and agency) and the cost is O(n log n) over cache-resident runs. (Hash sets per caller cost
// a TLB and cache miss per record: ~60 % of a 50 M-record report.)
class DistinctIds {
 public:
  void Add(uint32_t id) {
    ids_.push_back(id);
    if (ids_.size() >= kMinCompact && ids_.size() >= 2 * compacted_) Compact();
  }
  // Returns the distinct count (sorts and dedupes first).
  size_t Count() {
    Compact();
    return ids_.size();
  }
  // Returns the distinct ids, ascending.
  const std::vector<uint32_t>& Sorted() {
    Compact();
    return ids_;
  }
  void Assign(std::vector<uint32_t> ids) {
    ids_ = std::move(ids);
    compacted_ = 0;
  }

 private:
  static constexpr size_t kMinCompact = 1024;
  void Compact() {
    if (ids_.size() == compacted_) return;
    std::sort(ids_.begin(), ids_.end());
    ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
    compacted_ = ids_.size();
  }
  std::vector<uint32_t> ids_;
  size_t compacted_ = 0;
};

// What is summed per caller while reading; the total is summed from the callers' in Finish().
struct Acc {
  std::string caller;
  uint32_t index = 0;  // in Impl::callers
  uint64_t queries = 0, listed = 0, related = 0, receipts_with_measures = 0;
  uint64_t corrections = 0;
  DistinctIds subjects;                  // Impl::subject_ids
  std::vector<uint64_t> returned;        // by measure number
  std::vector<uint64_t> agency_queries;  // by agency index
  std::vector<DistinctIds> agency_subjects;
};

// Counts of the measures' feedback, per measure number, filled in by Finish().
struct FeedbackCounts {
  uint64_t applied = 0, not_applied = 0, cancelled = 0;
  absl::flat_hash_map<uint32_t, uint64_t> not_applied_reasons, cancelled_reasons;
};

std::vector<ReasonCount> SortedReasons(const absl::flat_hash_map<uint32_t, uint64_t>& counts,
                                       const std::vector<std::string>& reasons) {
  std::vector<ReasonCount> out;
  for (const auto& [reason, count] : counts) out.push_back({reasons[reason], count});
  std::sort(out.begin(), out.end(), [](const ReasonCount& a, const ReasonCount& b) {
    return a.count != b.count ? a.count > b.count : a.reason < b.reason;
  });
  return out;
}

}  // namespace quarterly_internal

using quarterly_internal::Acc;
using quarterly_internal::DistinctIds;
using quarterly_internal::FeedbackCounts;
using quarterly_internal::Latest;
using quarterly_internal::ReceiptKey;
using quarterly_internal::ReceiptState;
using quarterly_internal::SortedReasons;

struct QuarterlyBuilder::Impl {
  const Catalog& catalog;
  Quarter quarter;
  std::string caller_filter;
  int64_t begin_micros, end_micros;
  std::vector<int> agency_of;  // by measure number, -1 none
  size_t agency_count;

  absl::flat_hash_map<std::string, uint32_t> caller_index;
  std::vector<std::unique_ptr<Acc>> callers;
  absl::flat_hash_map<uint64_t, uint32_t> subject_ids;  // XXH3 of the subject id -> dense id
  Acc total;
  std::vector<uint64_t> agency_stamp;  // dedupes a query's agencies without allocating
  uint64_t stamp = 0;

  absl::flat_hash_map<ReceiptKey, uint32_t> receipt_index;
  std::vector<ReceiptState> receipts;
  absl::flat_hash_map<std::pair<uint32_t, uint16_t>, Latest> latest;  // (receipt, measure)
  absl::flat_hash_map<std::string, uint32_t> reason_index;
  std::vector<std::string> reasons;
  uint64_t feedback_outside = 0, feedback_entries_ignored = 0;
  // Feedback read before its query (another stream of the audit, read later): its payload and
  // order, to be counted once every query is in.
  std::vector<std::pair<std::string, audit::WriteOrder>> early_feedback;
  // The node's receipt key: the receipts listed are the texts the answers carried.
  std::optional<audit::ReceiptCipher> cipher;

  Impl(const Catalog& c, Quarter q, std::string filter)
      : catalog(c),
        quarter(q),
        caller_filter(std::move(filter)),
        begin_micros(q.BeginMicros()),
        end_micros(q.EndMicros()),
        agency_count(c.agencies().size()),
        agency_stamp(c.agencies().size(), 0) {
    int max_no = 64;
    for (const Measure& m : c.measures()) max_no = std::max(max_no, m.no);
    agency_of.assign(max_no + 1, -1);
    for (const Measure& m : c.measures()) agency_of[m.no] = m.agency;
    InitAcc(&total);
  }

  void InitAcc(Acc* acc) {
    acc->returned.assign(agency_of.size(), 0);
    acc->agency_queries.assign(agency_count, 0);
    acc->agency_subjects.resize(agency_count);
  }

  Acc* CallerAcc(std::string_view caller) {
    auto it = caller_index.find(absl::string_view(caller.data(), caller.size()));
    if (it != caller_index.end()) return callers[it->second].get();
    const uint32_t index = static_cast<uint32_t>(callers.size());
    caller_index.emplace(std::string(caller), index);
    callers.push_back(std::make_unique<Acc>());
    callers.back()->caller = std::string(caller);
    callers.back()->index = index;
    InitAcc(callers.back().get());
    return callers.back().get();
  }

  uint32_t ReasonId(std::string_view reason) {
    auto [it, inserted] = reason_index.try_emplace(absl::string_view(reason.data(), reason.size()),
                                                   static_cast<uint32_t>(reasons.size()));
    if (inserted) reasons.emplace_back(reason);
    return it->second;
  }

  void AddQuery(const audit::QueryRecord& r, const audit::Receipt& receipt);
  // Counts `r`, or keeps it for later when its receipt is not known yet and `defer`.
  void AddFeedback(const audit::FeedbackRecord& r, const audit::WriteOrder& order, bool defer);
  CallerReport Summarise(Acc& acc, const std::vector<FeedbackCounts>& feedback, uint64_t pending,
                         std::vector<std::string> pending_receipts) const;
};

void QuarterlyBuilder::Impl::AddQuery(const audit::QueryRecord& r, const audit::Receipt& receipt) {
  if (r.time_micros < begin_micros || r.time_micros >= end_micros) return;
  if (!caller_filter.empty() && r.caller != caller_filter) return;
  Acc* acc = CallerAcc(r.caller);
  // An organisation asked by its organisation code and by its credit code is one subject.
  const std::string_view subject_key = SubjectKey(r.subject, static_cast<SubjectKind>(r.kind));
  const uint32_t subject = subject_ids
                               .try_emplace(XXH3_64bits(subject_key.data(), subject_key.size()),
                                            static_cast<uint32_t>(subject_ids.size()))
                               .first->second;
  ++acc->queries;
  acc->subjects.Add(subject);  // the total's distinct subjects: every id interned
  if (r.listing == audit::Listing::kListed) ++acc->listed;
  if (r.listing == audit::Listing::kRelated) ++acc->related;
  if (r.measures.empty()) return;
  ++stamp;
  uint64_t mask = 0;
  for (uint16_t no : r.measures) {
    if (no >= acc->returned.size()) {  // a number beyond the catalog's: rare, grow
      agency_of.resize(no + 1, -1);
      for (auto& c : callers) c->returned.resize(no + 1, 0);
      total.returned.resize(no + 1, 0);
    }
    ++acc->returned[no];
    if (no < 64) mask |= uint64_t{1} << no;
    const int agency = agency_of[no];
    if (agency < 0 || agency_stamp[agency] == stamp) continue;
    agency_stamp[agency] = stamp;
    ++acc->agency_queries[agency];
    acc->agency_subjects[agency].Add(subject);
  }
  // An answer of protocol versions 1-3 returned measures but no receipt: nothing is owed on it.
  if (!audit::AwaitsFeedback(r)) return;
  ++acc->receipts_with_measures;
  const ReceiptKey key{receipt.node, receipt.segment, receipt.offset};
  auto [it, inserted] = receipt_index.try_emplace(key, static_cast<uint32_t>(receipts.size()));
  if (inserted) {
    const bool keyed = cipher.has_value() && r.time_micros >= cipher->keyed_since_micros();
    receipts.push_back(ReceiptState{key, acc->index, false, keyed, mask});
  }
}

void QuarterlyBuilder::Impl::AddFeedback(const audit::FeedbackRecord& r,
                                         const audit::WriteOrder& order, bool defer) {
  if (!caller_filter.empty() && r.caller != caller_filter) return;
  absl::StatusOr<audit::Receipt> receipt = audit::Receipt::Parse(r.receipt);
  auto it = receipt.ok()
                ? receipt_index.find(ReceiptKey{receipt->node, receipt->segment, receipt->offset})
                : receipt_index.end();
  if (it == receipt_index.end() && defer && receipt.ok()) {
    auto& [payload, at] = early_feedback.emplace_back(std::string(), order);
    audit::EncodeFeedback(r, &payload);
    return;
  }
  if (it == receipt_index.end()) {
    ++feedback_outside;
    return;
  }
  ReceiptState& state = receipts[it->second];
  for (const audit::FeedbackEntry& e : r.entries) {
    const bool returned = e.measure >= 64 || (state.measure_mask >> e.measure & 1) != 0;
    if (!returned) {
      ++feedback_entries_ignored;
      continue;
    }
    state.has_feedback = true;
    const Latest value{e.outcome, ReasonId(e.reason), order};
    auto [slot, inserted] = latest.try_emplace({it->second, e.measure}, value);
    if (!inserted) {
      if (value.order >= slot->second.order) slot->second = value;
      ++callers[state.caller]->corrections;
    }
  }
}

CallerReport QuarterlyBuilder::Impl::Summarise(Acc& acc,
                                               const std::vector<FeedbackCounts>& feedback,
                                               uint64_t pending,
                                               std::vector<std::string> pending_receipts) const {
  CallerReport out;
  out.caller = acc.caller;
  out.queries = acc.queries;
  out.subjects = acc.subjects.Count();
  out.listed = acc.listed;
  out.related = acc.related;
  out.hits = acc.listed + acc.related;
  out.receipts_with_measures = acc.receipts_with_measures;
  out.receipts_without_feedback = pending;
  out.corrections = acc.corrections;
  out.pending_receipts = std::move(pending_receipts);
  std::vector<AgencyLine> agencies(agency_count);
  for (size_t no = 0; no < acc.returned.size(); ++no) {
    const FeedbackCounts* f = no < feedback.size() ? &feedback[no] : nullptr;
    const uint64_t applied = f ? f->applied : 0, not_applied = f ? f->not_applied : 0,
                   cancelled = f ? f->cancelled : 0;
    if (acc.returned[no] + applied + not_applied + cancelled == 0) continue;
    MeasureLine line;
    line.no = static_cast<int>(no);
    line.agency = agency_of[no];
    if (const Measure* m = catalog.FindMeasure(line.no)) line.title = m->title;
    if (line.agency >= 0) line.agency_id = catalog.agencies()[line.agency].id;
    line.returned = acc.returned[no];
    line.applied = applied;
    line.not_applied = not_applied;
    line.cancelled = cancelled;
    out.feedback_entries += applied + not_applied + cancelled;
    if (f) {
      line.not_applied_reasons = SortedReasons(f->not_applied_reasons, reasons);
      line.cancelled_reasons = SortedReasons(f->cancelled_reasons, reasons);
    }
    if (line.agency >= 0) {
      AgencyLine& a = agencies[line.agency];
      a.returned += line.returned;
      a.applied += applied;
      a.not_applied += not_applied;
      a.cancelled += cancelled;
    }
    out.measures.push_back(std::move(line));
  }
  for (size_t i = 0; i < agency_count; ++i) {
    AgencyLine& a = agencies[i];
    a.agency = static_cast<int>(i);
    a.id = catalog.agencies()[i].id;
    a.name = catalog.agencies()[i].name;
    a.queries = acc.agency_queries[i];
    a.subjects = acc.agency_subjects[i].Count();
    if (a.queries + a.applied + a.not_applied + a.cancelled > 0) {
      out.agencies.push_back(std::move(a));
    }
  }
  return out;
}

QuarterlyBuilder::QuarterlyBuilder(const Catalog& catalog, Quarter quarter,
                                   std::string caller_filter)
    : impl_(std::make_unique<Impl>(catalog, quarter, std::move(caller_filter))) {}

QuarterlyBuilder::~QuarterlyBuilder() = default;

void QuarterlyBuilder::SetReceiptCipher(const audit::ReceiptCipher& cipher) {
  impl_->cipher = cipher;
}

void QuarterlyBuilder::Add(const audit::QueryRecord& record, const audit::Receipt& receipt) {
  impl_->AddQuery(record, receipt);
}

void QuarterlyBuilder::Add(const audit::FeedbackRecord& record, const audit::WriteOrder& order) {
  impl_->AddFeedback(record, order, true);
}

QuarterlyReport QuarterlyBuilder::Finish() {
  Impl& m = *impl_;
  for (const auto& [payload, order] : m.early_feedback) {
    absl::StatusOr<audit::FeedbackRecord> record = audit::DecodeFeedback(payload);
    if (record.ok()) m.AddFeedback(*record, order, false);  // encoded here: decodes
  }
  m.early_feedback.clear();
  const size_t n = m.callers.size();
  const size_t measures = m.agency_of.size();
  std::vector<std::vector<FeedbackCounts>> feedback(n, std::vector<FeedbackCounts>(measures));
  std::vector<FeedbackCounts> total_feedback(measures);
  for (const auto& [key, value] : m.latest) {
    const uint32_t caller = m.receipts[key.first].caller;
    const uint16_t no = key.second;
    if (no >= measures) continue;  // the receipt did not return it: cannot happen past AddFeedback
    for (FeedbackCounts* f : {&feedback[caller][no], &total_feedback[no]}) {
      switch (value.outcome) {
        case audit::Outcome::kApplied:
          ++f->applied;
          break;
        case audit::Outcome::kNotApplied:
          ++f->not_applied;
          ++f->not_applied_reasons[value.reason];
          break;
        case audit::Outcome::kCancelled:
          ++f->cancelled;
          ++f->cancelled_reasons[value.reason];
          break;
      }
    }
  }
  std::vector<uint64_t> pending(n, 0);
  std::vector<std::vector<std::string>> pending_receipts(n);
  std::vector<std::string> total_pending;
  for (const ReceiptState& r : m.receipts) {
    if (r.has_feedback) continue;
    ++pending[r.caller];
    const audit::Receipt receipt{r.key.node, r.key.segment, r.key.offset};
    const std::string text = r.keyed ? m.cipher->Text(receipt) : receipt.ToString();
    if (pending_receipts[r.caller].size() < kMaxPending) pending_receipts[r.caller].push_back(text);
    if (total_pending.size() < kMaxPending) total_pending.push_back(text);
  }

  QuarterlyReport report;
  report.quarter = m.quarter;
  report.caller_filter = m.caller_filter;
  report.catalog_id = m.catalog.id();
  report.catalog_title = m.catalog.title();
  report.feedback_outside = m.feedback_outside;
  report.feedback_entries_ignored = m.feedback_entries_ignored;
  std::vector<uint32_t> order(n);
  for (uint32_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return m.callers[a]->caller < m.callers[b]->caller; });
  uint64_t total_pending_count = 0;
  // The total's distinct subjects per agency: the union of the callers', marked per id.
  std::vector<std::vector<bool>> agency_seen(m.agency_count);
  for (uint32_t i : order) {
    Acc& acc = *m.callers[i];
    total_pending_count += pending[i];
    m.total.queries += acc.queries;
    m.total.listed += acc.listed;
    m.total.related += acc.related;
    m.total.receipts_with_measures += acc.receipts_with_measures;
    m.total.corrections += acc.corrections;
    for (size_t a = 0; a < m.agency_count; ++a) {
      m.total.agency_queries[a] += acc.agency_queries[a];
      if (acc.agency_queries[a] == 0) continue;
      agency_seen[a].resize(m.subject_ids.size());
      for (uint32_t id : acc.agency_subjects[a].Sorted()) agency_seen[a][id] = true;
    }
    for (size_t no = 0; no < acc.returned.size(); ++no) m.total.returned[no] += acc.returned[no];
    report.callers.push_back(
        m.Summarise(acc, feedback[i], pending[i], std::move(pending_receipts[i])));
  }
  // Every interned subject was asked about by a counted query.
  std::vector<uint32_t> all(m.subject_ids.size());
  for (uint32_t id = 0; id < all.size(); ++id) all[id] = id;
  m.total.subjects.Assign(std::move(all));
  for (size_t a = 0; a < m.agency_count; ++a) {
    std::vector<uint32_t> ids;
    for (uint32_t id = 0; id < agency_seen[a].size(); ++id) {
      if (agency_seen[a][id]) ids.push_back(id);
    }
    m.total.agency_subjects[a].Assign(std::move(ids));
  }
  m.total.caller.assign(1, '*');  // not = "*": GCC 12 warns falsely (-Wrestrict)
  report.total =
      m.Summarise(m.total, total_feedback, total_pending_count, std::move(total_pending));
  return report;
}

namespace {

// Returns what the report says of an audit the read found damaged ("" if it found nothing).
// Record times come from the callers' and the writer's clocks: a minute's margin, as the audit's
// own time checks (audit/reader.cc).
constexpr int64_t kClockMarginMicros = int64_t{60} * 1000 * 1000;

std::string DamageNote(const audit::ReadCheck& check) {
  if (check.problems.empty()) return "";
  std::string more;
  if (check.problems.size() > 1) {
    more = absl::StrCat(" (and ", check.problems.size() - 1,
                        check.problems.size() >= 100 ? "+" : "", " more problems)");
  }
  return absl::StrCat("the audit is damaged: ", check.problems.front(), more,
                      ": this report may count records changed since they were written, or miss "
                      "some (run `shixin audit verify`)");
}

}  // namespace

absl::StatusOr<QuarterlyReport> BuildQuarterlyReport(
    const std::string& audit_dir, Quarter quarter, const std::string& caller_filter,
    const Catalog& catalog, const Calendar* calendar, std::string_view calendar_error,
    const AuditSource& source, const AuditStart& start, int64_t now_micros) {
  // Before the read: every record the report counts was written by then.
  const int64_t made = now_micros != 0 ? now_micros : absl::ToUnixMicros(absl::Now());
  QuarterlyBuilder builder(catalog, quarter, caller_filter);
  // The receipts listed as their answers carried them: keyed ones with the key beside the
  // audit. Without a node_id there (an audit copied alone), in the position form, which the
  // admin's tools read just the same.
  const std::string state_dir = audit::StateDirOfAudit(audit_dir);
  absl::StatusOr<audit::NodeIdentity> node = audit::ReadNodeIdentity(state_dir);
  if (!node.ok() && !absl::IsNotFound(node.status())) return node.status();
  if (node.ok() && node->cipher.has_value()) builder.SetReceiptCipher(*node->cipher);
  audit::ReadCheck check;
  // A record dated after the report was made (beyond a minute for clocks) was not written then:
  // a segment header or records dated in the future, which move queries between quarters. Said
  // as damage, naming the first.
  const int64_t latest = made + kClockMarginMicros;
  uint64_t future = 0;
  std::string first_future;
  absl::Status read = source(
      audit_dir, quarter.BeginMicros(),
      [&](const audit::QueryRecord& r, const audit::Receipt& receipt) {
        if (r.time_micros > latest && future++ == 0) {
          first_future = absl::StrCat(audit::SegmentFileName(receipt.segment),
                                      ": query seq=", r.sequence, " (receipt ", receipt.ToString(),
                                      ") dated ", FormatInstant(r.time_micros / 1000000));
        }
        builder.Add(r, receipt);
      },
      [&](const audit::FeedbackRecord& r, const audit::WriteOrder& order) {
        if (r.time_micros > latest && future++ == 0) {
          first_future =
              absl::StrCat("feedback seq=", r.sequence, " on receipt ", std::string(r.receipt),
                           " dated ", FormatInstant(r.time_micros / 1000000));
        }
        builder.Add(r, order);
      },
      &check);
  if (!read.ok()) return read;
  if (future > 0) {
    check.problems.insert(check.problems.begin(),
                          absl::StrCat(future, " records dated after this report was made (",
                                       FormatInstant(made / 1000000), "), the first ", first_future,
                                       ": a segment header or records dated in the future"));
  }
  absl::StatusOr<audit::Coverage> coverage = start(audit_dir);
  if (!coverage.ok()) return coverage.status();
  QuarterlyReport report = builder.Finish();
  if (const int64_t since = coverage->since_micros; since > quarter.BeginMicros()) {
    // An empty report of a quarter the audit did not cover is no record of "no queries".
    report.incomplete_before_micros = since;
    const bool after = since >= quarter.EndMicros();
    report.incomplete_note =
        coverage->removed
            ? absl::StrCat("the audit starts at ", FormatInstant(since / 1000000),
                           " (older segments were removed), after the quarter ",
                           after ? "ended: this report counts none of it"
                                 : "began: this report is incomplete")
            : absl::StrCat("the audit begins at ", FormatInstant(since / 1000000),
                           after ? ", after this quarter: it holds no record of the quarter, "
                                   "and this report counts none of its queries"
                                 : ", after the quarter began: queries answered before then "
                                   "were not recorded and are not in this report");
  }
  // A quarter still running (or not begun) when the report is made: later queries and feedback
  // are not in it, and nothing else would say so but made_at.
  if (made < quarter.EndMicros()) {
    // Queries dated in a quarter not begun are dated in the future (the damage note).
    const std::string running =
        made < quarter.BeginMicros()
            ? absl::StrCat("the quarter has not begun (this report was made at ",
                           FormatInstant(made / 1000000), ")",
                           report.empty()
                               ? ": it counts nothing yet"
                               : absl::StrCat(", yet the audit has ", report.total.queries,
                                              " queries dated in it (in the future)"))
            : absl::StrCat("the quarter runs until ", FormatInstant(quarter.EndMicros() / 1000000),
                           " and this report was made at ", FormatInstant(made / 1000000),
                           ": queries and feedback after that are not in it");
    absl::StrAppend(&report.incomplete_note, report.incomplete_note.empty() ? "" : "; ", running);
  }
  report.damage_note = DamageNote(check);
  report.audit_streams = std::move(check.streams);
  report.made_micros = made;
  if (calendar == nullptr) {
    report.due_note = std::string(calendar_error);
  } else if (absl::StatusOr<absl::CivilDay> due = calendar->DueDate(quarter); due.ok()) {
    report.due_date = FormatDay(*due);
  } else {
    report.due_note = std::string(due.status().message());
  }
  return report;
}

absl::Status ReadAudit(const std::string& dir, int64_t from_micros, const QueryVisitor& on_query,
                       const FeedbackVisitor& on_feedback, audit::ReadCheck* check) {
  audit::ReadOptions options;
  options.from_micros = from_micros;
  audit::WriteOrderer orderer;
  return audit::ForEachRecord(
      dir, options,
      [&](const audit::Entry& entry) {
        const audit::WriteOrder order = orderer.Next(entry);
        if (entry.type == audit::RecordType::kQuery) {
          on_query(entry.query, entry.receipt);
        } else {
          on_feedback(entry.feedback, order);
        }
        return true;
      },
      check);
}

}  // namespace shixin::report
