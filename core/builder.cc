#include "core/builder.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <limits>
#include <numeric>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/terminal.h"
#include "core/case_code.h"
#include "core/case_codec.h"
#include "core/dataset.h"
#include "core/grounds.h"
#include "core/link.h"
#include "xxhash.h"

namespace shixin {

SnapshotBuilder::SnapshotBuilder() = default;
SnapshotBuilder::~SnapshotBuilder() = default;

uint32_t SnapshotBuilder::Intern(const Id& id, std::string_view name) {
  const auto [it, inserted] =
      pending_index_.try_emplace(id.Pack(), static_cast<uint32_t>(pending_.size()));
  if (inserted) pending_.push_back(PendingEntity{id.Pack()});
  PendingEntity& entity = pending_[it->second];
  if (entity.name_size == 0 && !name.empty()) {
    entity.name_begin = names_.size();
    entity.name_size = static_cast<uint32_t>(name.size());
    names_.append(name);
  }
  return it->second;
}

void SnapshotBuilder::NoteFirstLine(uint32_t entity, bool relations, uint64_t line) {
  PendingEntity& e = pending_[entity];
  if (line == 0 || e.first_line != 0 || PackedKind(e.id) == IdKind::kResident) return;
  e.first_line =
      static_cast<uint32_t>(std::min<uint64_t>(line, std::numeric_limits<uint32_t>::max()));
  e.first_in_relations = relations;
}

void SnapshotBuilder::AddCase(const CaseInput& c, uint64_t line) {
  const uint32_t entity = Intern(c.id, {});
  NoteFirstLine(entity, false, line);
  PendingEntity& pending = pending_[entity];
  // The court's name for a listed subject wins over a name the relations feed gave.
  if (!pending.name_from_case && !c.name.empty()) {
    pending.name_begin = names_.size();
    pending.name_size = static_cast<uint32_t>(c.name.size());
    pending.name_from_case = true;
    names_.append(c.name);
  }
  constexpr uint64_t kMaxLine = std::numeric_limits<uint32_t>::max();
  if (line != 0 && TermlessFixedTermCase(c)) {
    termless_.push_back(static_cast<uint32_t>(cases_.size()));
  }
  cases_.push_back(
      PendingCase{entity, static_cast<uint32_t>(std::min(line, kMaxLine)), case_blob_.size()});
  EncodeCase(c, &case_blob_);
}

void SnapshotBuilder::AddRelation(const RelationInput& r, Interval valid, uint64_t line) {
  const uint32_t org = Intern(r.org, {});
  NoteFirstLine(org, true, line);
  const uint32_t person = Intern(r.person, r.person_name);
  relations_.push_back(PendingRelation{org, person, r.role, valid});
}

std::vector<uint32_t> SnapshotBuilder::MergeOrgCodeAliases(LoadReport* report) const {
  std::vector<uint32_t> target(pending_.size());
  std::iota(target.begin(), target.end(), 0);
  absl::flat_hash_map<PackedId, uint32_t, PackedIdHash> by_embedded_code;
  // Organisation codes two or more credit codes embed: the others than the one that takes it.
  absl::flat_hash_map<PackedId, std::vector<uint32_t>, PackedIdHash> shared;
  for (uint32_t i = 0; i < pending_.size(); ++i) {
    const Id id = Id::Unpack(pending_[i].id);
    if (id.kind() != IdKind::kCreditCode) continue;
    const auto [it, inserted] = by_embedded_code.try_emplace(id.EmbeddedOrgCode().Pack(), i);
    if (!inserted) {
      shared[it->first].push_back(it->second);
      it->second = i;  // the one first named last: its lines come after the others' first
    }
  }
  if (by_embedded_code.empty()) return target;
  for (uint32_t i = 0; i < pending_.size(); ++i) {
    if (PackedKind(pending_[i].id) != IdKind::kOrgCode) continue;
    auto it = by_embedded_code.find(pending_[i].id);
    if (it == by_embedded_code.end()) continue;
    target[i] = it->second;
    auto others = shared.find(pending_[i].id);
    if (report == nullptr || others == shared.end()) continue;
    // An organisation code names one organisation (GB 32100): the data says otherwise.
    std::string credit_codes;
    for (uint32_t other : others->second) {
      absl::StrAppend(&credit_codes, std::string(Id::Unpack(pending_[other].id).text()), " (",
                      Where(other), "), ");
    }
    const auto [file, line] = FirstLine(i);
    if (++report->notes <= LoadReport::kMaxKeptErrors) {
      report->first_notes.push_back(LoadError{
          std::string(file), line,
          absl::StrFormat("organisation code %s is embedded in credit codes %s%s (%s): its "
                          "cases and roles are taken as the latter's, the credit code first named "
                          "last",
                          Id::Unpack(pending_[i].id).text(), credit_codes,
                          Id::Unpack(pending_[it->second].id).text(), Where(it->second))});
    }
  }
  return target;
}

std::pair<std::string_view, uint64_t> SnapshotBuilder::FirstLine(uint32_t entity) const {
  const PendingEntity& e = pending_[entity];
  if (e.first_line == 0) return {"", 0};
  return {e.first_in_relations ? kRelationsFile : kDebtorsFile, e.first_line};
}

std::string SnapshotBuilder::Where(uint32_t entity) const {
  const auto [file, line] = FirstLine(entity);
  return line == 0 ? "" : absl::StrCat(std::string(file), ":", line);
}

void SnapshotBuilder::TakeAliasName(const PendingEntity& alias, PendingEntity& merged) {
  // The relations feed names no organisation: a credit-code entity only it gave has no name, and
  // the court's name for the organisation code it embeds must not be lost (feed.md section 1).
  if (merged.name_from_case || (merged.name_size != 0 && !alias.name_from_case)) return;
  if (alias.name_size == 0) return;
  merged.name_begin = alias.name_begin;
  merged.name_size = alias.name_size;
  merged.name_from_case = alias.name_from_case;
}

absl::StatusOr<std::unique_ptr<const Snapshot>> SnapshotBuilder::Build(LoadReport* report) {
  // Entities referred to by their organisation code are merged into the credit-code entity.
  const std::vector<uint32_t> target = MergeOrgCodeAliases(report);
  std::vector<uint32_t> order;
  order.reserve(pending_.size());
  for (uint32_t i = 0; i < pending_.size(); ++i) {
    if (target[i] == i) {
      order.push_back(i);
    } else {
      TakeAliasName(pending_[i], pending_[target[i]]);
    }
  }
  if (order.size() > kMaxEntities) {
    return absl::ResourceExhaustedError(
        absl::StrCat("too many entities: ", order.size(), " (at most ", kMaxEntities, ")"));
  }
  if (names_.size() >= std::numeric_limits<uint32_t>::max()) {
    return absl::ResourceExhaustedError("entity names exceed 4 GiB");
  }
  // Sorting by ID makes the layout, and so the version, independent of the input order.
  std::sort(order.begin(), order.end(),
            [this](uint32_t a, uint32_t b) { return pending_[a].id < pending_[b].id; });
  std::vector<uint32_t> number(pending_.size());
  for (uint32_t n = 0; n < order.size(); ++n) number[order[n]] = n;
  for (uint32_t i = 0; i < pending_.size(); ++i) number[i] = number[target[i]];

  std::unique_ptr<Snapshot> snap(new Snapshot());
  LayOutEntities(order, *snap);
  LayOutCases(number, *snap, report);
  LayOutLinks(number, *snap);
  snap->entity_storage_.push_back(
      Snapshot::Entity{PackedId{}, static_cast<uint32_t>(snap->name_storage_.size()),
                       static_cast<uint32_t>(snap->case_offset_storage_.size()),
                       static_cast<uint32_t>(snap->link_storage_.size()), 0, 0});
  LayOutListings(*snap);
  snap->case_blob_storage_ = std::move(case_blob_);
  snap->ViewOwnedStorage();
  FillInfo(*snap);
  snap->BuildIndexes();

  // Release the pending tables: the builder is left empty.
  pending_index_ = {};
  pending_ = {};
  names_ = {};
  cases_ = {};
  termless_ = {};
  relations_ = {};
  case_blob_ = {};
  return std::unique_ptr<const Snapshot>(std::move(snap));
}

void SnapshotBuilder::LayOutEntities(const std::vector<uint32_t>& order, Snapshot& snap) const {
  snap.entity_storage_.reserve(order.size() + 1);
  size_t name_bytes = 0;
  for (uint32_t i : order) name_bytes += pending_[i].name_size;
  snap.name_storage_.reserve(name_bytes);
  for (uint32_t i : order) {
    const PendingEntity& p = pending_[i];
    snap.entity_storage_.push_back(
        Snapshot::Entity{p.id, static_cast<uint32_t>(snap.name_storage_.size()), 0, 0, 0, 0});
    snap.name_storage_.append(names_, p.name_begin, p.name_size);
  }
}

void SnapshotBuilder::LayOutCases(const std::vector<uint32_t>& number, Snapshot& snap,
                                  LoadReport* report) {
  // A counting sort by entity keeps each subject's cases in arrival order.
  const size_t n = snap.entity_storage_.size();
  std::vector<uint32_t> begin(n + 1, 0);
  for (const PendingCase& c : cases_) ++begin[number[c.entity] + 1];
  std::partial_sum(begin.begin(), begin.end(), begin.begin());
  std::vector<uint32_t> order(cases_.size());
  {
    std::vector<uint32_t> next(begin.begin(), begin.end() - 1);
    for (uint32_t i = 0; i < cases_.size(); ++i) order[next[number[cases_[i].entity]]++] = i;
  }
  // The export's lines that repeat a case are merged, subject by subject, in place.
  size_t kept = 0;
  std::vector<uint32_t> cases;
  for (size_t e = 0; e < n; ++e) {
    const auto first = order.begin() + begin[e], last = order.begin() + begin[e + 1];
    snap.entity_storage_[e].case_begin = static_cast<uint32_t>(kept);
    if (last - first > 1) {
      cases.assign(first, last);
      MergeRepeatedCases(cases, report);
      std::copy(cases.begin(), cases.end(), order.begin() + static_cast<std::ptrdiff_t>(kept));
      kept += cases.size();
    } else {
      if (kept != begin[e]) {
        std::copy(first, last, order.begin() + static_cast<std::ptrdiff_t>(kept));
      }
      kept += static_cast<size_t>(last - first);
    }
  }
  order.resize(kept);
  NoteTermlessCases(order, report);
  snap.case_offset_storage_.resize(kept);
  if (kept == cases_.size()) {
    for (size_t k = 0; k < kept; ++k) snap.case_offset_storage_[k] = cases_[order[k]].blob_begin;
    return;
  }
  // Some were merged: the blob keeps the others only.
  std::string blob;
  const char* end = case_blob_.data() + case_blob_.size();
  for (size_t k = 0; k < kept; ++k) {
    const char* record = case_blob_.data() + cases_[order[k]].blob_begin;
    size_t size = 0;
    DecodeCase(record, end, &size);
    snap.case_offset_storage_[k] = blob.size();
    blob.append(record, size);
  }
  case_blob_ = std::move(blob);
}

void SnapshotBuilder::MergeRepeatedCases(std::vector<uint32_t>& cases, LoadReport* report) const {
  if (std::none_of(cases.begin(), cases.end(),
                   [this](uint32_t i) { return cases_[i].line != 0; })) {
    return;  // versions (compaction) are never merged
  }
  const char* const blob_end = case_blob_.data() + case_blob_.size();
  const auto code = [&](uint32_t i) {
    return DecodeCaseHead(case_blob_.data() + cases_[i].blob_begin, blob_end).case_code;
  };
  const auto bytes = [&](uint32_t i) {
    size_t size = 0;
    DecodeCase(case_blob_.data() + cases_[i].blob_begin, blob_end, &size);
    return std::string_view(case_blob_.data() + cases_[i].blob_begin, size);
  };
  // Repeats of one case share the hash of its number: neighbours once sorted by it.
  std::vector<std::pair<uint64_t, uint32_t>> keyed;  // (hash, position in `cases`)
  for (uint32_t p = 0; p < cases.size(); ++p) {
    if (cases_[cases[p]].line != 0) keyed.emplace_back(CaseCodeHash(code(cases[p])), p);
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<bool> merged(cases.size(), false);
  for (size_t run = 0, run_end = 0; run < keyed.size(); run = run_end) {
    while (run_end < keyed.size() && keyed[run_end].first == keyed[run].first) ++run_end;
    for (size_t x = run + 1; x < run_end; ++x) {
      const uint32_t later = cases[keyed[x].second];
      for (size_t y = run; y < x; ++y) {
        const uint32_t earlier = cases[keyed[y].second];
        if (merged[keyed[y].second] || !SameCaseCode(code(earlier), code(later))) continue;
        // The later line wins: the earlier one is left out.
        merged[keyed[y].second] = true;
        if (report == nullptr) break;
        if (bytes(earlier) == bytes(later)) {
          ++report->duplicates;
        } else if (++report->notes <= LoadReport::kMaxKeptErrors) {
          report->first_notes.push_back(LoadError{
              kDebtorsFile, cases_[later].line,
              absl::StrFormat("case %s of %s repeats line %d with other content: this line's "
                              "is kept",
                              TerminalSafe(code(later)),
                              Id::Unpack(pending_[cases_[later].entity].id).Masked(),
                              cases_[earlier].line)});
        }
        break;
      }
    }
  }
  size_t kept = 0;
  for (size_t p = 0; p < cases.size(); ++p) {
    if (!merged[p]) cases[kept++] = cases[p];
  }
  cases.resize(kept);
}

void SnapshotBuilder::NoteTermlessCases(const std::vector<uint32_t>& kept,
                                        LoadReport* report) const {
  if (report == nullptr || termless_.empty()) return;
  // A line a later one gives again is not the case: only the kept lines count.
  std::vector<bool> is_kept;
  if (kept.size() != cases_.size()) {
    is_kept.resize(cases_.size());
    for (uint32_t i : kept) is_kept[i] = true;
  }
  TermlessCases termless;
  uint64_t first_line = 0;
  const char* const blob_end = case_blob_.data() + case_blob_.size();
  for (const uint32_t i : termless_) {
    if (!is_kept.empty() && !is_kept[i]) continue;
    const CaseView head = DecodeCaseHead(case_blob_.data() + cases_[i].blob_begin, blob_end);
    termless.Add(head.case_code, head.start);
    if (first_line == 0) first_line = cases_[i].line;
  }
  if (termless.count() == 0) return;
  // One summary, ahead of the per-line notes, so that none of them crowds it out of the kept
  // ones (shixind logs the first few only).
  ++report->notes;
  report->first_notes.insert(report->first_notes.begin(),
                             LoadError{kDebtorsFile, first_line, termless.Note()});
  if (report->first_notes.size() > LoadReport::kMaxKeptErrors) report->first_notes.pop_back();
}

void SnapshotBuilder::LayOutListings(Snapshot& snap) const {
  std::vector<Interval> intervals;
  const size_t n = snap.entity_storage_.size() - 1;
  for (size_t e = 0; e < n; ++e) {
    Snapshot::Entity& entity = snap.entity_storage_[e];
    intervals.clear();
    for (uint32_t c = entity.case_begin; c < snap.entity_storage_[e + 1].case_begin; ++c) {
      const uint64_t offset = snap.case_offset_storage_[c];
      const Interval i = CaseInterval(
          DecodeCase(case_blob_.data() + offset, case_blob_.data() + case_blob_.size(), nullptr));
      // Blocks are kept as StoredTime()s: one that ends before 1970 (none do) would be empty.
      if (Snapshot::StoredTime(i.from) < Snapshot::StoredEnd(i.until)) intervals.push_back(i);
    }
    const std::vector<Interval> blocks = MergeIntervals(intervals);
    if (blocks.empty()) continue;
    for (size_t b = 0; b + 1 < blocks.size(); ++b) {
      snap.block_storage_.push_back(Snapshot::Block{static_cast<EntityNo>(e),
                                                    Snapshot::StoredTime(blocks[b].from),
                                                    Snapshot::StoredEnd(blocks[b].until)});
    }
    entity.listed_from = Snapshot::StoredTime(blocks.back().from);
    entity.listed_until = Snapshot::StoredEnd(blocks.back().until);
  }
}

void SnapshotBuilder::LayOutLinks(const std::vector<uint32_t>& number, Snapshot& snap) {
  // One relation's intervals merge (stored times, so that two that meet in storage merge too);
  // a relation that then holds always has no interval.
  std::vector<PendingRelation> relations;
  relations.reserve(relations_.size());
  for (const PendingRelation& r : relations_) {
    const Interval stored{Snapshot::StoredTime(r.valid.from), Snapshot::StoredEnd(r.valid.until)};
    if (stored.empty()) continue;
    relations.push_back(PendingRelation{number[r.org], number[r.person], r.role, stored});
  }
  std::sort(relations.begin(), relations.end(), [](const auto& a, const auto& b) {
    return std::tie(a.org, a.person, a.role, a.valid.from) <
           std::tie(b.org, b.person, b.role, b.valid.from);
  });
  size_t kept = 0;
  for (size_t i = 0; i < relations.size(); ++i) {
    const PendingRelation r = relations[i];
    PendingRelation* last = kept > 0 ? &relations[kept - 1] : nullptr;
    if (last != nullptr && last->org == r.org && last->person == r.person && last->role == r.role &&
        r.valid.from <= last->valid.until) {
      last->valid.until = std::max(last->valid.until, r.valid.until);
    } else {
      relations[kept++] = r;
    }
  }
  relations.resize(kept);
  relation_count_ = relations.size();

  const size_t n = snap.entity_storage_.size();
  std::vector<uint32_t> begin(n + 1, 0);
  for (const PendingRelation& r : relations) {
    ++begin[r.org + 1];
    ++begin[r.person + 1];
  }
  std::partial_sum(begin.begin(), begin.end(), begin.begin());
  for (size_t e = 0; e < n; ++e) snap.entity_storage_[e].link_begin = begin[e];
  // Each entity's links are sorted for a stable order, each with its interval.
  std::vector<Snapshot::LinkInterval> slots(2 * relations.size());
  const auto slot = [](uint32_t other, Role role, const Interval& v) {
    return Snapshot::LinkInterval{EncodeLink(other, role), static_cast<uint32_t>(v.from),
                                  static_cast<uint32_t>(v.until)};
  };
  for (const PendingRelation& r : relations) {
    slots[begin[r.org]++] = slot(r.person, r.role, r.valid);
    slots[begin[r.person]++] = slot(r.org, r.role, r.valid);
  }
  const auto by_link = [](const auto& a, const auto& b) {
    return std::tie(a.link, a.from) < std::tie(b.link, b.from);
  };
  for (size_t e = 0; e < n; ++e) {
    const size_t end = e + 1 < n ? snap.entity_storage_[e + 1].link_begin : slots.size();
    std::sort(slots.begin() + snap.entity_storage_[e].link_begin,
              slots.begin() + static_cast<std::ptrdiff_t>(end), by_link);
  }
  std::vector<uint32_t>& links = snap.link_storage_;
  links.resize(slots.size());
  for (size_t i = 0; i < slots.size(); ++i) {
    links[i] = slots[i].link;
    if (slots[i].from != 0 || slots[i].until != Snapshot::kStoredForever) {
      snap.link_interval_storage_.push_back(
          Snapshot::LinkInterval{static_cast<uint32_t>(i), slots[i].from, slots[i].until});
    }
  }
}

void SnapshotBuilder::FillInfo(Snapshot& snap) const {
  SnapshotInfo& info = snap.info_;
  info.build_time = build_time_ != 0 ? build_time_ : static_cast<int64_t>(std::time(nullptr));
  info.source_time = source_time_;
  info.delta_sequence = delta_sequence_;
  snap.history_from_ = history_from_;
  info.entities = snap.entity_count();
  info.cases = snap.case_offsets_.size();
  info.relations = relation_count_;
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  for (EntityNo e = 0; e < snap.entity_count(); ++e) {
    XXH3_64bits_update(state, &snap.entities_[e], sizeof(Snapshot::Entity));
    if (snap.IsListed(e, info.build_time)) {
      ++info.subjects;
      ++(snap.EntityKind(e) == SubjectKind::kPerson ? info.persons : info.organizations);
    }
    if (snap.IsRelated(e, info.build_time)) ++info.related_persons;
  }
  XXH3_64bits_update(state, snap.blocks_.data(), snap.blocks_.size_bytes());
  XXH3_64bits_update(state, snap.names_.data(), snap.names_.size());
  XXH3_64bits_update(state, snap.links_.data(), snap.links_.size() * sizeof(uint32_t));
  XXH3_64bits_update(state, snap.link_intervals_.data(), snap.link_intervals_.size_bytes());
  for (uint64_t offset : snap.case_offsets_) {
    size_t size = 0;
    DecodeCase(snap.case_blob_.data() + offset, snap.case_blob_.data() + snap.case_blob_.size(),
               &size);
    XXH3_64bits_update(state, snap.case_blob_.data() + offset, size);
  }
  info.version = XXH3_64bits_digest(state);
  XXH3_freeState(state);
}

}  // namespace shixin
