#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "synthetic/out_file.h"
#include "synthetic/synthetic.h"

namespace shixin {
namespace {

using synthetic_internal::AddCaseKeys;
using synthetic_internal::OutFile;

void WriteCase(const CaseInput& c, OutFile* out) {
  AddCaseKeys(c, out, /*first=*/true);
  out->Add("}\n");
}

void WriteRelation(const RelationInput& r, OutFile* out) {
  out->AddField("orgId", r.org.text(), /*first=*/true);
  out->AddField("personId", r.person.text());
  out->AddField("personName", r.person_name);
  out->AddField("role", RoleName(r.role));
  out->Add("}\n");
}

}  // namespace

absl::StatusOr<SyntheticStats> WriteSyntheticDataSet(const SyntheticOptions& options,
                                                     const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  const std::string debtors = dir + "/debtors.ndjson";
  const std::string relations = dir + "/relations.ndjson";
  // Temporary names until complete, so a partial file never sits under the final name.
  const std::string debtors_tmp = debtors + ".tmp";
  const std::string relations_tmp = relations + ".tmp";
  OutFile case_out;
  OutFile relation_out;
  absl::Status status = case_out.Open(debtors_tmp);
  if (status.ok()) status = relation_out.Open(relations_tmp);
  SyntheticStats stats;
  if (status.ok()) {
    stats = GenerateSynthetic(
        options, [&](const CaseInput& c) { WriteCase(c, &case_out); },
        [&](const RelationInput& r) { WriteRelation(r, &relation_out); });
  }
  absl::Status closed = case_out.Close();
  if (status.ok()) status = closed;
  closed = relation_out.Close();
  if (status.ok()) status = closed;
  if (status.ok() && (std::rename(debtors_tmp.c_str(), debtors.c_str()) != 0 ||
                      std::rename(relations_tmp.c_str(), relations.c_str()) != 0)) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("cannot rename files in ", dir));
  }
  if (!status.ok()) {
    std::remove(debtors_tmp.c_str());
    std::remove(relations_tmp.c_str());
    return status;
  }
  return stats;
}

}  // namespace shixin
