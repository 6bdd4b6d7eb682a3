#include "core/dataset.h"

#include "core/builder.h"

namespace shixin {

absl::StatusOr<std::unique_ptr<const Snapshot>> LoadDataDir(const std::string& dir,
                                                            const LoadOptions& options,
                                                            LoadReport* report) {
  LoadReport local;
  if (report == nullptr) report = &local;
  SnapshotBuilder builder;
  absl::Status status = LoadCaseFile(
      dir + "/" + kDebtorsFile, options, [&builder](const CaseInput& c) { builder.AddCase(c); },
      report);
  if (!status.ok()) return status;
  status = LoadRelationFile(
      dir + "/" + kRelationsFile, options,
      [&builder](const RelationInput& r) { builder.AddRelation(r); }, report);
  if (!status.ok()) return status;
  return builder.Build();
}

}  // namespace shixin
