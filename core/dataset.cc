#include "core/dataset.h"

#include <sys/stat.h>

#include <algorithm>

#include "core/builder.h"

namespace shixin {
namespace {

// Returns the modification time of `path` in Unix seconds, or 0 if it cannot be read (the
// load that follows reports the missing file).
int64_t ModificationTime(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec);
}

}  // namespace

absl::StatusOr<std::unique_ptr<const Snapshot>> LoadDataDir(const std::string& dir,
                                                            const LoadOptions& options,
                                                            LoadReport* report) {
  LoadReport local;
  if (report == nullptr) report = &local;
  const std::string debtors = dir + "/" + kDebtorsFile;
  const std::string relations = dir + "/" + kRelationsFile;
  SnapshotBuilder builder;
  builder.set_delta_sequence(options.delta_sequence);
  // Taken before reading: a file rewritten during the load makes the list look older, never
  // newer, than it is.
  builder.set_source_time(std::max(ModificationTime(debtors), ModificationTime(relations)));
  absl::Status status = LoadCaseFile(
      debtors, options,
      [&builder, report](const CaseInput& c) { builder.AddCase(c, report->record_line); }, report);
  if (!status.ok()) return status;
  status = LoadRelationFile(
      relations, options,
      [&builder, report](const RelationInput& r) {
        builder.AddRelation(r, Interval{}, report->record_line);
      },
      report);
  if (!status.ok()) return status;
  return builder.Build(report);
}

}  // namespace shixin
