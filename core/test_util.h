// Helpers shared by the core tests and fuzzers: valid IDs made from a number, case/relation
// inputs, the comparison of overlay entities and of answers, a file dropped from the page
// cache, a call that must not wait for a FIFO's other side, and the source tree.
//
// Thread safety: pure functions.
#ifndef SHIXIN_CORE_TEST_UTIL_H_
#define SHIXIN_CORE_TEST_UTIL_H_

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/id.h"
#include "core/list.h"
#include "core/overlay.h"
#include "core/query.h"
#include "core/record.h"
#include "core/validity.h"

namespace shixin::testing {

// Drops the file at `path` from the page cache (written back first). Returns how many of its
// pages are still in memory afterwards (as on a tmpfs, where nothing can be dropped), or -1 if
// it could not tell.
inline int64_t DropFromPageCache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st {};
  int64_t resident = -1;
  if (::fstat(fd, &st) == 0 && st.st_size > 0 && ::fdatasync(fd) == 0 &&
      ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0) {
    const size_t size = static_cast<size_t>(st.st_size);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map != MAP_FAILED) {
      const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
      std::vector<unsigned char> in_core((size + page - 1) / page);
      if (::mincore(map, size, in_core.data()) == 0) {
        resident = std::count_if(in_core.begin(), in_core.end(),
                                 [](unsigned char c) { return (c & 1) != 0; });
      }
      ::munmap(map, size);
    }
  }
  ::close(fd);
  return resident;
}

// Runs `call` on a thread and returns whether it returned within 5 s by itself. When it did not
// (it waits in open() of the FIFO at `fifo` for its other side, as code that opens a state file
// blindly does), opens that side (`other_side`: O_RDONLY or O_WRONLY) so that the call ends.
inline bool ReturnsWithoutTheOtherSideOfAFifo(const std::string& fifo, int other_side,
                                              const std::function<void()>& call) {
  std::atomic<bool> done{false};
  std::thread thread([&] {
    call();
    done = true;
  });
  for (int i = 0; i < 500 && !done; ++i) ::usleep(10000);
  const bool returned = done;
  if (returned) {
    thread.join();
    return true;
  }
  const int fd = ::open(fifo.c_str(), other_side | O_CLOEXEC);
  if (other_side == O_WRONLY) ::close(fd);  // the reader then sees the end
  thread.join();
  if (other_side != O_WRONLY) ::close(fd);  // after the writer wrote
  return false;
}

// Returns the source tree (SHIXIN_SOURCE_DIR, set by ctest; else "..", the build directory's
// parent).
inline std::string SourceDir() {
  const char* dir = std::getenv("SHIXIN_SOURCE_DIR");
  return dir != nullptr ? dir : "..";
}

// "Now" for tests whose data carries no dates that could end before it.
inline const int64_t kNow = NowSeconds();

// Returns whether two overlay entities hold the same state: key, name, case versions, links and
// listing blocks.
inline bool SameEntity(const OverlayEntity& a, const OverlayEntity& b) {
  if (a.key() != b.key() || a.name() != b.name() || a.case_count() != b.case_count() ||
      a.links().size() != b.links().size() || a.blocks().size() != b.blocks().size() ||
      a.record_bytes() != b.record_bytes()) {
    return false;
  }
  for (size_t i = 0; i < a.case_count(); ++i) {
    if (!(a.Case(i) == b.Case(i))) return false;
  }
  for (size_t i = 0; i < a.links().size(); ++i) {
    const OverlayLink &x = a.links()[i], &y = b.links()[i];
    if (x.other != y.other || x.role != y.role || !(x.valid == y.valid)) return false;
  }
  return std::equal(a.blocks().begin(), a.blocks().end(), b.blocks().begin());
}

// Returns everything Check() says of `id` at `t`, as text to compare.
inline std::string DescribeCheck(const ListView& view, const Id& id, int64_t t) {
  absl::StatusOr<CheckResult> r = Check(view, id, t, true);
  if (!r.ok()) return r.status().ToString();
  std::string s = absl::StrCat(r->id, " ", r->listed, r->related, " ", r->name, " ", r->since, "-",
                               r->until, "\n");
  for (const CaseInfo& c : r->cases) {
    absl::StrAppend(&s, " case ", c.case_code, " ", c.start, " ", c.ended_at, " ",
                    static_cast<int>(c.end), " ", c.publish_date, "\n");
  }
  for (const auto* roles : {&r->roles, &r->officers}) {
    for (const RoleInfo& l : *roles) {
      absl::StrAppend(&s, " role ", static_cast<int>(l.role), " ", l.id, " ", l.name, " ", l.listed,
                      "\n");
    }
  }
  return s;
}

// Returns the number of entities of `a` that `b` lacks or holds in another state, plus the
// difference in their sizes: 0 when the overlays hold the same states.
inline size_t OverlayDifferences(const Overlay& a, const Overlay& b) {
  size_t different = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  a.ForEach([&](const OverlayEntity& e) {
    const OverlayEntity* other = b.Find(e.key());
    different += other == nullptr || !SameEntity(e, *other);
  });
  return different;
}

// Returns a valid resident ID born 1980-01-01 in Hegang (230400) with sequence `n` (< 1000).
inline Id PersonId(int n) {
  std::string first17 = absl::StrFormat("23040219800101%03d", n);
  return MakeIdUnchecked(IdKind::kResident, first17 + ResidentCheckChar(first17));
}

// Returns a valid credit code "91230400" + an organisation code derived from `n`.
inline Id CreditCode(int n) {
  std::string org8 = absl::StrFormat("%08d", 10000000 + n);
  std::string org9 = org8 + OrgCodeCheckChar(org8);
  std::string first17 = "91230400" + org9;
  return MakeIdUnchecked(IdKind::kCreditCode, first17 + CreditCodeCheckChar(first17));
}

// Returns a valid 9-character organisation code derived from `n`.
inline Id OrgCode(int n) {
  std::string org8 = absl::StrFormat("%08d", 20000000 + n);
  return MakeIdUnchecked(IdKind::kOrgCode, org8 + OrgCodeCheckChar(org8));
}

// Returns the credit code "91230400" + `org`: an organisation's code since GB 32100, embedding
// its old organisation code. REQUIRES: `org` is an organisation code of credit-code characters
// (no I, O, S, V, Z), as OrgCode()'s are.
inline Id CreditCodeEmbedding(const Id& org) {
  std::string first17 = "91230400" + std::string(org.text());
  return MakeIdUnchecked(IdKind::kCreditCode, first17 + CreditCodeCheckChar(first17));
}

// Returns a case of `id` named `name` with case number `code`, for ground (1) of SPC rules Art. 1
// (no fixed term: it has no term_end; core/grounds.h).
inline CaseInput MakeCase(const Id& id, std::string_view name, std::string_view code) {
  CaseInput c;
  c.id = id;
  c.name = name;
  c.case_code = code;
  c.court = "鹤岗市中级人民法院";
  c.area = "黑龙江";
  c.performance = "全部未履行";
  c.disrupt_type = "有履行能力而拒不履行生效法律文书确定义务";
  c.reg_date = 20180114;
  c.publish_date = 20180713;
  return c;
}

inline RelationInput MakeRelation(const Id& org, const Id& person, std::string_view name,
                                  Role role) {
  return RelationInput{org, person, name, role};
}

// Returns a delta line (docs/feed.md 3) that adds case （2026）黑0402执88号 of 李明, resident ID
// `card_num`, published 2026-06-01, its term ending on `term_end` ("2028-05-31").
inline std::string AddCaseLine(std::string_view card_num, std::string_view term_end) {
  return absl::StrFormat(
      R"({"op":"add","caseCode":"（2026）黑0402执88号","iname":"李明","cardNum":"%s",)"
      R"("partyTypeName":"0","courtName":"鹤岗市向阳区人民法院","areaName":"黑龙江",)"
      R"("gistId":"(2025)黑0402民初12号","gistUnit":"鹤岗市向阳区人民法院","regDate":"20260310",)"
      R"("publishDate":"2026-06-01","duty":"偿还借款5万元","performance":"全部未履行",)"
      R"("performedPart":"暂无","unperformPart":"暂无","disruptTypeName":"违反财产报告制度",)"
      R"("termEnd":"%s"})"
      "\n",
      card_num, term_end);
}

// Returns a delta's lines removing, `at` (RFC 3339), every case of the NDJSON list file
// `debtors` (one case a line), and in `*all_but` those of the lines without `keep` (e.g. an ID
// whose cases stay), if not null: the delta that empties the list, and one that leaves a case.
inline std::string RemovalsOfEveryCase(const std::string& debtors, std::string_view at,
                                       std::string_view keep = "", std::string* all_but = nullptr) {
  std::string all;
  std::ifstream in(debtors);
  for (std::string line; std::getline(in, line);) {
    const auto value = [&](const std::string& key) {
      const size_t from = line.find("\"" + key + "\":\"") + key.size() + 4;
      return line.substr(from, line.find('"', from) - from);
    };
    const std::string removal =
        absl::StrFormat(R"({"op":"remove","caseCode":"%s","cardNum":"%s","reason":"other",)"
                        R"("at":"%s"})"
                        "\n",
                        value("caseCode"), value("cardNum"), at);
    all += removal;
    if (all_but != nullptr && line.find(keep) == std::string::npos) *all_but += removal;
  }
  return all;
}

}  // namespace shixin::testing

#endif  // SHIXIN_CORE_TEST_UTIL_H_
