#include "loadtest/workload.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/id.h"
#include "core/ingest.h"
#include "core/validity.h"

namespace shixin::loadtest {

FixedId MakeFixedId(std::string_view text) {
  FixedId f{};
  f.size = static_cast<uint8_t>(std::min<size_t>(text.size(), sizeof(f.text)));
  std::memcpy(f.text, text.data(), f.size);
  return f;
}

namespace {

// Keeps a uniform sample of at most `cap` of the values offered (reservoir sampling).
void Offer(std::vector<FixedId>* sample, size_t cap, uint64_t* seen, Rng* rng, const Id& id) {
  ++*seen;
  if (sample->size() < cap) {
    sample->push_back(MakeFixedId(id.text()));
    return;
  }
  const uint64_t j = rng->Below(*seen);
  if (j < cap) (*sample)[j] = MakeFixedId(id.text());
}

// Generates `count` valid resident IDs that are neither listed nor related.
void GenerateMisses(const std::vector<FixedId>& hits, const absl::flat_hash_set<uint64_t>& known,
                    size_t count, Rng* rng, std::vector<FixedId>* out) {
  std::vector<std::string> areas;
  for (size_t i = 0; i < hits.size() && areas.size() < 4096; ++i) {
    if (hits[i].size == 18 && std::isdigit(static_cast<unsigned char>(hits[i].text[0])) &&
        std::isdigit(static_cast<unsigned char>(hits[i].text[2]))) {
      areas.emplace_back(hits[i].text, 6);
    }
  }
  if (areas.empty()) areas.push_back("110105");
  out->reserve(count);
  size_t attempts = 0;
  while (out->size() < count && attempts++ < count * 20) {
    const std::string first17 = absl::StrFormat(
        "%s%04d%02d%02d%03d", areas[rng->Below(areas.size())], 1940 + rng->Below(66),
        1 + rng->Below(12), 1 + rng->Below(28), rng->Below(1000));
    const std::string text = first17 + ResidentCheckChar(first17);
    absl::StatusOr<Id> id = ParseId(text);
    if (!id.ok() || known.contains(HashPackedId(id->Pack()))) continue;
    out->push_back(MakeFixedId(id->text()));
  }
}

}  // namespace

absl::Status ForEachLine(const std::string& path, absl::FunctionRef<void(std::string_view)> fn) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int error = errno;
    close(fd);
    return absl::ErrnoToStatus(error, path);
  }
  if (st.st_size == 0) {
    close(fd);
    return absl::OkStatus();
  }
  void* map = mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) {
    return absl::ErrnoToStatus(errno, absl::StrCat(path, ": mmap"));
  }
  madvise(map, st.st_size, MADV_SEQUENTIAL);
  const char* p = static_cast<const char*>(map);
  const char* end = p + st.st_size;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    const char* line_end = nl == nullptr ? end : nl;
    fn(std::string_view(p, line_end - p));
    p = line_end + 1;
  }
  munmap(map, st.st_size);
  return absl::OkStatus();
}

std::string_view FieldValue(std::string_view line, std::string_view key) {
  const void* at = memmem(line.data(), line.size(), key.data(), key.size());
  if (at == nullptr) return {};
  const char* begin = static_cast<const char*>(at) + key.size();
  const char* end = line.data() + line.size();
  for (const char* p = begin; p < end; ++p) {
    if (*p == '\\') {
      ++p;
    } else if (*p == '"') {
      return std::string_view(begin, p - begin);
    }
  }
  return {};
}

Interval CaseCounts(std::string_view line) {
  const std::optional<uint32_t> publish = ParseFeedDate(FieldValue(line, "\"publishDate\":\""));
  const std::optional<uint32_t> term_end = ParseFeedDate(FieldValue(line, "\"termEnd\":\""));
  if (!publish || !term_end) return Interval{0, 0};
  return Interval{*publish == 0 ? 0 : DayStart(*publish), TermEndInstant(*term_end)};
}

absl::StatusOr<IdPool> LoadIdPool(const PoolOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  IdPool pool;
  Rng rng(options.seed * 0x51ED27);
  absl::flat_hash_set<uint64_t> listed;       // subjects with a case that counts now
  absl::flat_hash_set<uint64_t> known;        // subjects with any case: never a miss
  absl::flat_hash_set<uint64_t> listed_orgs;  // by credit code and by organisation code
  absl::flat_hash_set<uint64_t> hits;         // subjects listed throughout [now, stable)
  absl::flat_hash_set<uint64_t> changing;     // subjects with a case starting or ending in it
  uint64_t seen = 0;
  const int64_t now = NowSeconds();
  const int64_t stable = now + options.stable_seconds;
  const absl::CivilDay today = absl::ToCivilDay(absl::FromUnixSeconds(now), absl::UTCTimeZone());
  absl::Status s = ForEachLine(options.data_dir + "/debtors.ndjson", [&](std::string_view line) {
    const std::string_view raw = FieldValue(line, "\"cardNum\":\"");
    if (raw.empty()) return;
    absl::StatusOr<Id> id = ParseId(raw, today);
    if (!id.ok()) {
      ++pool.invalid_ids;
      return;
    }
    const uint64_t h = HashPackedId(id->Pack());
    known.insert(h);
    const Interval counts = CaseCounts(line);
    if (!counts.empty() && ((now < counts.from && counts.from < stable) ||
                            (now < counts.until && counts.until < stable))) {
      changing.insert(h);
      if (id->kind() == IdKind::kCreditCode) {
        changing.insert(HashPackedId(id->EmbeddedOrgCode().Pack()));
      }
    }
    if (!counts.Contains(now)) return;
    listed.insert(h);
    // Listed all along by this case whatever the others do.
    if (counts.until >= stable && hits.insert(h).second) {
      Offer(&pool.hits, options.sample, &seen, &rng, *id);
    }
    // An organisation listed by its credit code is the same as its embedded organisation code
    // (relations may name it either way).
    if (id->kind() == IdKind::kCreditCode) {
      listed_orgs.insert(HashPackedId(id->EmbeddedOrgCode().Pack()));
    }
    if (id->kind() != IdKind::kResident) listed_orgs.insert(HashPackedId(id->Pack()));
  });
  if (!s.ok()) return s;
  pool.listed_total = listed.size();
  if (listed.empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s/debtors.ndjson: no listed IDs found", options.data_dir));
  }
  absl::flat_hash_set<uint64_t> related;
  seen = 0;
  s = ForEachLine(options.data_dir + "/relations.ndjson", [&](std::string_view line) {
    absl::StatusOr<Id> org = ParseId(FieldValue(line, "\"orgId\":\""));
    absl::StatusOr<Id> person = ParseId(FieldValue(line, "\"personId\":\""));
    if (!org.ok() || !person.ok()) {
      ++pool.invalid_ids;
      return;
    }
    // Whether `orgs` holds the organisation by the ID the relation names or, for a credit code,
    // by the organisation code within it.
    const auto holds_org = [&org](const absl::flat_hash_set<uint64_t>& orgs) {
      return orgs.contains(HashPackedId(org->Pack())) ||
             (org->kind() == IdKind::kCreditCode &&
              orgs.contains(HashPackedId(org->EmbeddedOrgCode().Pack())));
    };
    const uint64_t h = HashPackedId(person->Pack());
    if (!holds_org(listed_orgs) || listed.contains(h)) return;
    // Left out of the pool (not of related_total) if its own listing or its organisation's
    // changes while the answers must hold.
    if (related.insert(h).second && !holds_org(changing) && !changing.contains(h)) {
      Offer(&pool.related, options.sample, &seen, &rng, *person);
    }
  });
  if (!s.ok() && !absl::IsNotFound(s)) return s;
  pool.related_total = related.size();
  listed_orgs.clear();
  for (uint64_t h : related) known.insert(h);  // misses must be neither
  listed.swap(known);
  related.clear();
  GenerateMisses(pool.hits, listed, std::min<size_t>(options.sample, pool.hits.size() + 1000), &rng,
                 &pool.misses);
  pool.read_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return pool;
}

absl::StatusOr<Mix> UsedMix(const IdPool& pool, const Mix& mix) {
  Mix used = mix;
  used.touched = pool.touched.empty() ? 0 : mix.touched;
  used.hit = pool.hits.empty() ? 0 : mix.hit;
  used.miss = pool.misses.empty() ? 0 : mix.miss;
  used.related = pool.related.empty() ? 0 : mix.related;
  const double total = used.touched + used.hit + used.miss + used.related;
  if (!(total > 0)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "no IDs to send: the mix (--hit --miss --related) names only classes the sample has none "
        "of (%d hits, %d misses, %d related)",
        pool.hits.size(), pool.misses.size(), pool.related.size()));
  }
  used.touched /= total;
  used.hit /= total;
  used.miss /= total;
  used.related /= total;
  return used;
}

Picker::Picker(const IdPool& pool, const Mix& mix, uint64_t seed) : pool_(pool), rng_(seed) {
  const Mix used = UsedMix(pool, mix).value_or(Mix{0, 1, 0, 0, 0});
  touched_cut_ = used.touched;
  hit_cut_ = used.touched + used.hit;
  miss_cut_ = used.touched + used.hit + used.miss;
  if (used.related == 0) miss_cut_ = 2;  // never related
  measures_ = mix.measures;
}

const FixedId& Picker::Pick(IdClass* cls) {
  const double u = rng_.Unit();
  if (u < touched_cut_) {
    *cls = IdClass::kTouched;
    return pool_.touched[rng_.Below(pool_.touched.size())];
  }
  if (u < hit_cut_) {
    *cls = IdClass::kHit;
    return pool_.hits[rng_.Below(pool_.hits.size())];
  }
  if (u < miss_cut_ || pool_.related.empty()) {
    *cls = IdClass::kMiss;
    return pool_.misses[rng_.Below(pool_.misses.size())];
  }
  *cls = IdClass::kRelated;
  return pool_.related[rng_.Below(pool_.related.size())];
}

}  // namespace shixin::loadtest
