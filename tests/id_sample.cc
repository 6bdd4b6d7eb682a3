#include "tests/id_sample.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "core/id.h"
#include "core/validity.h"
#include "tests/daemon_harness.h"

namespace shixin::e2e {

std::string MakeResidentId(std::string_view area, std::string_view birth, int sequence) {
  std::string id = absl::StrFormat("%s%s%03d", std::string(area), std::string(birth), sequence);
  id += ResidentCheckChar(id);
  return id;
}

std::string MakeCreditCode(std::string_view area, std::string_view org8) {
  std::string first17 = absl::StrFormat("91%s%s", std::string(area), std::string(org8));
  first17 += OrgCodeCheckChar(org8);
  return first17 + CreditCodeCheckChar(first17);
}

std::vector<std::string> IdSample::All() const {
  std::vector<std::string> all;
  const std::vector<const std::vector<std::string>*> kinds = {
      &listed_persons, &listed_orgs, &related_persons, &other_entities, &unlisted,
      &invalid,        &typed};
  for (size_t i = 0;; ++i) {
    bool any = false;
    for (const auto* kind : kinds) {
      if (i < kind->size()) {
        all.push_back((*kind)[i]);
        any = true;
      }
    }
    if (!any) break;
  }
  return all;
}

namespace {

// Up to `n` elements of `from`, evenly spaced.
std::vector<std::string> Spread(const std::vector<std::string>& from, size_t n) {
  std::vector<std::string> out;
  if (from.empty() || n == 0) return out;
  const size_t take = std::min(n, from.size());
  for (size_t i = 0; i < take; ++i) out.push_back(from[i * from.size() / take]);
  return out;
}

// "１２３" for "123": full-width digits and capitals.
std::string FullWidth(std::string_view id) {
  std::string out;
  for (char c : id) {
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) {
      const unsigned code = 0xFF10 + (c >= 'A' ? 0x11 + (c - 'A') : c - '0');
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

IdSample SampleIds(const Snapshot& snap, size_t per_kind) {
  std::vector<std::string> listed_persons, listed_orgs, related, other;
  const int64_t now = NowSeconds();
  for (EntityNo e = 0; e < snap.entity_count(); ++e) {
    const std::string id(snap.EntityId(e).text());
    if (snap.IsListed(e, now)) {
      (snap.EntityKind(e) == SubjectKind::kPerson ? listed_persons : listed_orgs).push_back(id);
    } else if (snap.IsRelated(e, now)) {
      related.push_back(id);
    } else {
      other.push_back(id);
    }
  }
  IdSample s;
  s.listed_persons = Spread(listed_persons, per_kind);
  s.listed_orgs = Spread(listed_orgs, per_kind);
  s.related_persons = Spread(related, per_kind);
  s.other_entities = Spread(other, per_kind);

  // Valid IDs the list does not hold: residents of 230402 and credit codes of 230402.
  for (int i = 0; s.unlisted.size() < per_kind && i < 100000; ++i) {
    const std::string birth =
        absl::StrFormat("19%02d%02d%02d", 40 + i % 60, 1 + i % 12, 1 + i % 28);
    std::string id = i % 3 == 2 ? MakeCreditCode("230402", absl::StrFormat("%08d", 90000000 + i))
                                : MakeResidentId("230402", birth, (i * 37) % 1000);
    absl::StatusOr<Id> parsed = ParseId(id);
    if (parsed.ok() && snap.Find(*parsed) == kNoEntity) s.unlisted.push_back(std::move(id));
  }

  // Inputs ParseId() rejects, each for a different reason.
  const std::vector<std::string> base = s.listed_persons;
  for (size_t i = 0; i < base.size() && s.invalid.size() < per_kind; ++i) {
    std::string id = base[i];
    switch (i % 7) {
      case 0:  // bad check character
        id.back() = id.back() == '1' ? '2' : '1';
        break;
      case 1:  // wrong length
        id = id.substr(0, 17);
        break;
      case 2:  // bad character
        id[5] = 'Q';
        break;
      case 3:  // impossible birth date
        id = MakeResidentId("230402", "19990231", static_cast<int>(i % 1000));
        break;
      case 4:  // in the future
        id = MakeResidentId("230402", "20991231", static_cast<int>(i % 1000));
        break;
      case 5:  // bad area code
        id = MakeResidentId("990402", "19800101", static_cast<int>(i % 1000));
        break;
      case 6:  // not an ID at all
        id = i % 2 == 0 ? "张三" : "hello world";
        break;
    }
    s.invalid.push_back(std::move(id));
  }

  // Listed IDs as people type them.
  for (size_t i = 0; i < s.listed_persons.size() && s.typed.size() < per_kind; ++i) {
    const std::string& id = s.listed_persons[i];
    switch (i % 4) {
      case 0:
        if (id.back() == 'X') {
          s.typed.push_back(id.substr(0, 17) + "x");
        } else {
          s.typed.push_back("  " + id + " ");
        }
        break;
      case 1:
        if (id.substr(6, 2) == "19") {  // the old 15-digit form
          s.typed.push_back(id.substr(0, 6) + id.substr(8, 9));
        }
        break;
      case 2:
        s.typed.push_back(FullWidth(id));
        break;
      case 3:
        if (i / 4 < s.listed_orgs.size()) {
          const std::string& org = s.listed_orgs[i / 4];
          // A credit code's embedded organisation code, typed with its hyphen.
          if (org.size() == 18) s.typed.push_back(org.substr(8, 8) + "-" + org.substr(16, 1));
          if (org.size() == 9) s.typed.push_back(org.substr(0, 8) + "-" + org.substr(8, 1));
        }
        break;
    }
  }
  return s;
}

absl::StatusOr<IdSample> SampleIdsOf(const std::string& dir, size_t per_kind) {
  SHIXIN_ASSIGN_OR_RETURN(std::unique_ptr<const Snapshot> snap, LoadSnapshot(dir));
  return SampleIds(*snap, per_kind);
}

// Dumps.

namespace {

void DumpRoles(std::string_view what, const std::vector<RoleInfo>& roles, std::string* out) {
  for (const RoleInfo& r : roles) {
    absl::StrAppendFormat(out, "%s: %s %s %s listed=%d\n", std::string(what),
                          std::string(RoleName(r.role)), r.id, r.name, r.listed);
  }
}

std::string OptionalRole(const std::optional<Role>& role) {
  return role ? std::string(RoleName(*role)) : "-";
}

}  // namespace

std::string Dump(const CheckResult& r) {
  std::string out =
      absl::StrFormat("id %s kind %s listed=%d related=%d name %s\n", r.id,
                      std::string(SubjectKindName(r.kind)), r.listed, r.related, r.name);
  for (const CaseInfo& c : r.cases) {
    out += "case";
    ForEachCaseField(
        [&out]<typename M>(const CaseField& f, const M& value) {
          if constexpr (kIsCaseText<M>) {
            absl::StrAppendFormat(&out, " | %s %s", f.name, value);
          } else {
            absl::StrAppendFormat(&out, " | %s %d", f.name, static_cast<int>(value));
          }
        },
        c);
    out += "\n";
  }
  DumpRoles("role", r.roles, &out);
  DumpRoles("officer", r.officers, &out);
  return out;
}

std::string Dump(const MeasuresResult& r) {
  std::string out = Dump(r.subject);
  for (const MeasureInfo& m : r.measures) {
    absl::StrAppendFormat(&out, "measure %d %s %s %s effect %d\n", m.no, m.title, m.agency,
                          m.agency_name, static_cast<int>(m.effect));
    for (const Basis& b : m.basis) {
      absl::StrAppendFormat(&out, "  basis %s role %s via %s %s via_role %s officer %s %s\n",
                            std::string(BasisTypeName(b.type)), OptionalRole(b.role), b.via,
                            b.via_name, OptionalRole(b.via_role), b.officer, b.officer_name);
    }
  }
  return out;
}

}  // namespace shixin::e2e
