// SnapshotBuilder collects cases and relations and produces an immutable Snapshot.
//
// Cases of one subject may arrive in any order, from any line; a subject's name is taken from
// its first case (under either code of an organisation: the credit code's first case, else the
// organisation code's), else from the relations feed. Duplicate relations are merged, and so are
// the court's lines that give one case twice (AddCase()). An
// organisation named by its 9-character organisation code (in a case or a relation) is one entity
// with the one named by a credit code embedding it, keyed by the credit code, when there is one;
// else it stays under its organisation code, which Snapshot::Find() gives for a credit code
// embedding it. Of two or more credit codes embedding it (an error in the data), the one first
// named last (debtors.ndjson before relations.ndjson) takes it, and Build() notes that.
//
// Thread safety: a builder is used by one thread at a time.
#ifndef SHIXIN_CORE_BUILDER_H_
#define SHIXIN_CORE_BUILDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/ingest.h"
#include "core/record.h"
#include "core/snapshot.h"
#include "core/validity.h"

namespace shixin {

class SnapshotBuilder {
 public:
  SnapshotBuilder();
  SnapshotBuilder(const SnapshotBuilder&) = delete;
  SnapshotBuilder& operator=(const SnapshotBuilder&) = delete;
  ~SnapshotBuilder();

  // Adds one case of the listed subject `c.id`: a version of a case (compaction), or, with
  // `line` (1-based), the case on that line of the court's export (kDebtorsFile). The export's
  // lines that name one case (the same subject, case numbers SameCaseCode()) are one case: the
  // later line's (Build()).
  void AddCase(const CaseInput& c, uint64_t line = 0);
  // Adds one relation (organisation, person, role), holding always, or only during `valid`
  // (compaction's relations begun or ended by a delta). Intervals of one relation that
  // overlap or touch merge.
  // `line`: as AddCase()'s, of kRelationsFile (Build()'s notes name it).
  void AddRelation(const RelationInput& r, Interval valid = Interval{}, uint64_t line = 0);
  // Sets the build time recorded in the snapshot (Unix seconds); the default is the time of
  // Build().
  void set_build_time(int64_t unix_seconds) { build_time_ = unix_seconds; }
  // Sets the source time recorded in the snapshot (Unix seconds: when the input was written);
  // the default is 0, unknown.
  void set_source_time(int64_t unix_seconds) { source_time_ = unix_seconds; }
  // Sets the last delta folded into the snapshot (compaction); the default is 0, none.
  void set_delta_sequence(uint64_t sequence) { delta_sequence_ = sequence; }
  // Sets the instant before which the input's history is not whole (compaction dropped what
  // ended before it; Snapshot::history_from()); the default is 0, whole.
  void set_history_from(int64_t unix_seconds) { history_from_ = unix_seconds; }

  // Returns the snapshot. The builder is left empty. With `report`, counts in it the export's
  // lines that repeat an earlier line's case (duplicates) and notes those that change it, and
  // notes the cases for grounds (2)-(6) only without termEnd in one note, the first
  // (core/grounds.h).
  // Returns ResourceExhausted if a table outgrows its 32-bit offsets.
  absl::StatusOr<std::unique_ptr<const Snapshot>> Build(LoadReport* report = nullptr);

 private:
  struct PendingEntity {
    PackedId id;
    // Where an organisation was first named, for notes (0: not known; in the padding after id).
    uint32_t first_line = 0;
    uint64_t name_begin = 0;  // into names_
    uint32_t name_size = 0;
    bool name_from_case = false;
    bool first_in_relations = false;  // first_line is kRelationsFile's, else kDebtorsFile's
  };
  struct PendingCase {
    uint32_t entity;
    uint32_t line;        // of the export, 0 for a version (lines past 2^32 - 1 read as that)
    uint64_t blob_begin;  // into case_blob_; ends where the next case (in arrival order) begins
  };
  struct PendingRelation {
    uint32_t org;
    uint32_t person;
    Role role;
    Interval valid;
  };

  // Returns the pending entity for `id`, creating it if needed; gives it `name` if it has none.
  uint32_t Intern(const Id& id, std::string_view name);
  // Returns, for each pending entity, the entity it merges into (itself, or the credit-code
  // entity embedding its organisation code: of two or more, the one first named last, noted in
  // `report`).
  std::vector<uint32_t> MergeOrgCodeAliases(LoadReport* report) const;
  // Records where the organisation `entity` was first named, for MergeOrgCodeAliases()' notes.
  void NoteFirstLine(uint32_t entity, bool relations, uint64_t line);
  // Returns the file and line where `entity` was first named ("", 0 if not known), and that as
  // "debtors.ndjson:12" ("" if not known).
  std::pair<std::string_view, uint64_t> FirstLine(uint32_t entity) const;
  std::string Where(uint32_t entity) const;
  // Gives `merged` the name of `alias` (an organisation-code entity merged into it) if that is
  // the court's and `merged` has none of the court's, or if `merged` has none at all.
  static void TakeAliasName(const PendingEntity& alias, PendingEntity& merged);
  // The steps of Build(); `number` maps a pending entity to its snapshot entity.
  void LayOutEntities(const std::vector<uint32_t>& order, Snapshot& snap) const;
  void LayOutCases(const std::vector<uint32_t>& number, Snapshot& snap, LoadReport* report);
  // Drops from `cases` (indices into cases_ of one subject, in arrival order) the export's
  // lines whose case a later line gives again, counting them in `report`.
  void MergeRepeatedCases(std::vector<uint32_t>& cases, LoadReport* report) const;
  // Notes in `report` the export's lines among `kept` (indices into cases_) whose grounds give
  // them a term they lack (core/grounds.h): one note, on the first one's line.
  void NoteTermlessCases(const std::vector<uint32_t>& kept, LoadReport* report) const;
  void LayOutLinks(const std::vector<uint32_t>& number, Snapshot& snap);
  // Sets each entity's last listing block and the table of earlier ones, from its cases.
  void LayOutListings(Snapshot& snap) const;
  void FillInfo(Snapshot& snap) const;

  absl::flat_hash_map<PackedId, uint32_t, PackedIdHash> pending_index_;
  std::vector<PendingEntity> pending_;
  std::string names_;
  std::vector<PendingCase> cases_;
  std::string case_blob_;
  // Indices into cases_ of the export's lines that TermlessFixedTermCase() holds for.
  std::vector<uint32_t> termless_;
  std::vector<PendingRelation> relations_;
  uint64_t relation_count_ = 0;  // distinct relations, set by LayOutLinks()
  int64_t build_time_ = 0;
  int64_t source_time_ = 0;
  uint64_t delta_sequence_ = 0;
  int64_t history_from_ = 0;
};

}  // namespace shixin

#endif  // SHIXIN_CORE_BUILDER_H_
