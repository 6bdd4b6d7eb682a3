#include "loadtest/delta_feed.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "core/delta.h"
#include "core/id.h"
#include "core/list.h"
#include "core/overlay.h"
#include "core/query.h"
#include "core/snapshot_file.h"
#include "core/validity.h"
#include "protocol/client.h"
#include "protocol/operator_messages.h"

namespace shixin::loadtest {
namespace {

Answer Evaluate(const ListView& list, const Id& id, int64_t at) {
  absl::StatusOr<CheckResult> r = Check(list, id, at, /*with_cases=*/false);
  if (!r.ok()) return Answer::kInvalid;  // never: Check without cases does not fail
  return r->listed ? Answer::kListed : r->related ? Answer::kRelated : Answer::kUnlisted;
}

// Whether change `c` changes an answer at an instant in [from, until]: its own instant, or the
// start or end of term of the case it adds or corrects.
bool TakesEffectWithin(const DeltaChange& c, int64_t from, int64_t until) {
  const auto within = [&](int64_t t) { return from <= t && t <= until; };
  if (within(c.at)) return true;
  if (c.op != DeltaOp::kAdd && c.op != DeltaOp::kCorrect) return false;
  const Interval counts = CaseInterval(c.record);
  return within(counts.from) || within(counts.until);
}

// The IDs the changes `pick` selects of one delta may change the answer of: those their lines
// name, and the persons holding a role in an organisation they name (their "related" follows
// the organisation's listing).
template <typename Pick>
void CollectTouched(const ListView& list, const Delta& delta, int64_t at, Pick pick,
                    std::vector<Id>* out) {
  const size_t first = out->size();
  for (const DeltaChange& c : delta.changes) {
    if (!pick(c)) continue;
    out->push_back(c.id);
    if (c.op == DeltaOp::kRelate || c.op == DeltaOp::kUnrelate) out->push_back(c.org);
  }
  const size_t named = out->size();
  for (size_t i = first; i < named; ++i) {
    const SubjectRef s = list.Find((*out)[i]);
    if (!s.found() || list.Kind(s) != SubjectKind::kOrganization) continue;
    list.ForEachRole(s, at, [&](const RoleLink& l) {
      if (l.other.found()) out->push_back(list.SubjectId(l.other));
    });
  }
}

// The state of a plan being made: the list after each file, and the touched IDs so far.
class Planner {
 public:
  Planner(const Snapshot& base, size_t cap, int64_t at, int64_t horizon)
      : base_(base), cap_(cap), at_(at), horizon_(horizon) {}

  // Applies `delta` on top of the current overlay: a file the daemon has already (`feeding`
  // false, before Freeze()), or one fed, which adds a row of expectations.
  absl::Status Apply(const Delta& delta, bool feeding) {
    DeltaReport report;
    std::vector<Id> touched, timed;
    const auto all = [](const DeltaChange&) { return true; };
    // A minute's slack before the plan: the daemon's clock and this one's may differ.
    const auto in_run = [&](const DeltaChange& c) {
      return TakesEffectWithin(c, at_ - 60, at_ + horizon_);
    };
    CollectTouched(Current(), delta, at_, all, &touched);
    CollectTouched(Current(), delta, at_, in_run, &timed);
    SHIXIN_ASSIGN_OR_RETURN(std::unique_ptr<const Overlay> next,
                            ApplyDelta(base_, current_.get(), delta, &report));
    current_ = std::move(next);
    // After the file too: an organisation it adds may bring persons it relates.
    CollectTouched(Current(), delta, at_, in_run, &timed);
    for (const Id& id : timed) timed_.insert(id.Pack());
    CollectTouched(Current(), delta, at_, all, &touched);
    if (!feeding) {
      for (const Id& id : touched) applied_.insert(id.Pack());
      return absl::OkStatus();
    }
    for (const Id& id : touched) Add(id);
    ++rows_;
    for (size_t i = 0; i < ids_.size(); ++i) {
      answers_[i].push_back(Evaluate(Current(), ids_[i], at_));
    }
    return absl::OkStatus();
  }

  // Marks the end of the files already applied by the daemon: the list before the feed.
  void Freeze() { before_ = current_; }

  void TakeInto(FeedPlan* plan) {
    plan->untracked = std::move(excluded_);
    std::vector<size_t> judged;
    for (size_t i = 0; i < ids_.size(); ++i) {
      if (timed_.contains(ids_[i].Pack())) {
        plan->untracked.push_back(MakeFixedId(ids_[i].text()));
      } else {
        judged.push_back(i);
      }
    }
    const size_t rows = rows_ + 1;
    plan->touched.reserve(judged.size());
    plan->expected.resize(rows * judged.size());
    for (size_t j = 0; j < judged.size(); ++j) {
      plan->touched.push_back(MakeFixedId(ids_[judged[j]].text()));
      for (size_t k = 0; k < rows; ++k) {
        plan->expected[k * judged.size() + j] = answers_[judged[j]][k];
      }
    }
    // Timed IDs that no fed file touches are in the pool's other classes: out of them too, as
    // are those the files already applied touched (the pool has the base's answers).
    for (const PackedId& key : timed_) {
      if (!seen_.contains(key)) plan->untracked.push_back(MakeFixedId(Id::Unpack(key).text()));
    }
    for (const PackedId& key : applied_) {
      if (!seen_.contains(key) && !timed_.contains(key)) {
        plan->untracked.push_back(MakeFixedId(Id::Unpack(key).text()));
      }
    }
  }

 private:
  ListView Current() const { return ListView(base_, current_.get()); }

  // Adds `id` to the touched IDs: its answers before this file are those of the list before
  // the feed (no earlier file touched it). Beyond the cap it is only excluded from the pool.
  void Add(const Id& id) {
    if (!seen_.insert(id.Pack()).second) return;
    if (ids_.size() >= cap_) {
      excluded_.push_back(MakeFixedId(id.text()));
      return;
    }
    ids_.push_back(id);
    const Answer before = Evaluate(ListView(base_, before_.get()), id, at_);
    answers_.emplace_back(rows_ + 1, before);  // this file's row is added with the others
  }

  const Snapshot& base_;
  const size_t cap_;
  const int64_t at_;
  const int64_t horizon_;
  absl::flat_hash_set<PackedId, PackedIdHash> timed_;    // answers change during the run
  absl::flat_hash_set<PackedId, PackedIdHash> applied_;  // touched by the files applied already
  std::shared_ptr<const Overlay> current_;
  std::shared_ptr<const Overlay> before_;
  absl::flat_hash_set<PackedId, PackedIdHash> seen_;
  std::vector<Id> ids_;
  std::vector<FixedId> excluded_;             // touched beyond the cap
  std::vector<std::vector<Answer>> answers_;  // per ID, one per row so far
  size_t rows_ = 0;                           // files fed so far
};

}  // namespace

absl::StatusOr<FeedPlan> PlanFeed(const FeedOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  SHIXIN_ASSIGN_OR_RETURN(
      std::unique_ptr<const Snapshot> base,
      OpenSnapshotFile(options.snapshot, options.catalog_fingerprint, nullptr, 0));
  FeedPlan plan;
  plan.at = NowSeconds();
  Planner planner(*base, options.touched, plan.at, options.horizon);
  uint64_t last = 0;
  absl::StatusOr<std::vector<DeltaFile>> present = ListDeltaFiles(options.deltas_dir);
  if (!present.ok() && !absl::IsNotFound(present.status())) return present.status();
  for (const DeltaFile& f : present.ok() ? *present : std::vector<DeltaFile>{}) {
    SHIXIN_ASSIGN_OR_RETURN(const Delta delta, ReadDelta(f.path));
    SHIXIN_RETURN_IF_ERROR(planner.Apply(delta, /*feeding=*/false));
    last = f.sequence;
  }
  planner.Freeze();
  SHIXIN_ASSIGN_OR_RETURN(const std::vector<DeltaFile> source, ListDeltaFiles(options.source));
  for (const DeltaFile& f : source) {
    if (f.sequence <= last) continue;
    if (options.files > 0 && plan.files.size() == options.files) break;
    if (f.sequence != last + 1) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: %s follows %d: a gap (the daemon would stop there)", options.source,
                          DeltaFileName(f.sequence), last));
    }
    SHIXIN_ASSIGN_OR_RETURN(const Delta delta, ReadDelta(f.path));
    SHIXIN_RETURN_IF_ERROR(planner.Apply(delta, /*feeding=*/true));
    if (plan.files.empty()) plan.first_sequence = f.sequence;
    plan.files.push_back(f.path);
    last = f.sequence;
  }
  if (plan.files.empty()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: no delta file after sequence %d to feed", options.source, last));
  }
  planner.TakeInto(&plan);
  plan.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return plan;
}

void UseTouched(const FeedPlan& plan, IdPool* pool) {
  absl::flat_hash_set<std::string_view> touched;
  for (const FixedId& id : plan.touched) touched.insert(id.view());
  for (const FixedId& id : plan.untracked) touched.insert(id.view());
  for (std::vector<FixedId>* v : {&pool->hits, &pool->misses, &pool->related}) {
    v->erase(std::remove_if(v->begin(), v->end(),
                            [&](const FixedId& id) { return touched.contains(id.view()); }),
             v->end());
  }
  pool->touched = plan.touched;
}

namespace {

// Copies `from` to `dir`/.feed.tmp, closed, ahead of its time: the daemon ignores the name, and
// the copy's work stays out of the window timed from the file's arrival.
absl::Status Stage(const std::string& from, const std::string& dir) {
  const std::string tmp = dir + "/.feed.tmp";
  std::FILE* in = std::fopen(from.c_str(), "rb");
  if (in == nullptr) return absl::NotFoundError(absl::StrFormat("cannot read %s", from));
  std::FILE* out = std::fopen(tmp.c_str(), "wb");
  if (out == nullptr) {
    std::fclose(in);
    return absl::UnavailableError(absl::StrFormat("cannot write %s", tmp));
  }
  char buf[1 << 16];
  size_t n;
  bool ok = true;
  while ((n = std::fread(buf, 1, sizeof(buf), in)) > 0) ok = ok && std::fwrite(buf, 1, n, out) == n;
  std::fclose(in);
  ok = std::fclose(out) == 0 && ok;
  if (!ok) return absl::UnavailableError(absl::StrFormat("cannot write %s", tmp));
  return absl::OkStatus();
}

// Renames the staged copy of `from` to its name in `dir`: the file arrives whole, at once.
absl::Status Place(const std::string& from, const std::string& dir) {
  const std::string name = from.substr(from.find_last_of('/') + 1);
  if (std::rename((dir + "/.feed.tmp").c_str(), (dir + "/" + name).c_str()) != 0) {
    return absl::UnavailableError(absl::StrFormat("cannot place %s in %s", name, dir));
  }
  return absl::OkStatus();
}

// Returns INFO's generation and last applied sequence, read together.
absl::StatusOr<std::pair<uint32_t, uint64_t>> Applied(Client* client) {
  SHIXIN_ASSIGN_OR_RETURN(Reply<wire::InfoResponse> info, client->Info());
  return std::make_pair(info.value.generation, info.value.deltas.sequence);
}

}  // namespace

FeedResult Feed(const std::string& address, const Credentials& credentials, const FeedPlan& plan,
                const std::string& deltas_dir, int64_t start_ns, int64_t every_ns,
                SwapTracker* swaps, absl::Notification* stop) {
  FeedResult r;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(address);
  absl::Status s = client.ok() ? (*client)->Hello("shixin-loadtest feed", credentials).status()
                               : client.status();
  if (s.ok()) {
    absl::StatusOr<std::pair<uint32_t, uint64_t>> now = Applied(client->get());
    if (now.ok()) r.generations[now->first] = now->second;
    s = now.status();
    if (s.ok() && now->second + 1 != plan.first_sequence) {
      s = absl::FailedPreconditionError(absl::StrFormat(
          "the daemon is at sequence %d, the feed starts at %d", now->second, plan.first_sequence));
    }
  }
  if (!s.ok()) {
    r.error = std::string(s.message());
    return r;
  }
  for (size_t k = 0; k < plan.files.size(); ++k) {
    const int64_t due = start_ns + static_cast<int64_t>(k + 1) * every_ns;
    if (absl::Status staged = Stage(plan.files[k], deltas_dir); !staged.ok()) {
      r.error = std::string(staged.message());
      return r;
    }
    if (stop->WaitForNotificationWithTimeout(absl::Nanoseconds(due - NowNs()))) break;
    const uint64_t sequence = plan.first_sequence + k;
    swaps->Begin();
    const int64_t landed = NowNs();
    if (absl::Status placed = Place(plan.files[k], deltas_dir); !placed.ok()) {
      swaps->End(false, std::string(placed.message()));
      r.error = std::string(placed.message());
      return r;
    }
    ++r.fed;
    // Poll until the daemon shows the file applied (each file is one generation), at most 30 s.
    bool seen = false;
    while (!seen && NowNs() - landed < 30'000'000'000) {
      absl::StatusOr<std::pair<uint32_t, uint64_t>> now = Applied(client->get());
      if (!now.ok()) break;
      r.generations.emplace(now->first, now->second);
      seen = now->second >= sequence;
      if (!seen) absl::SleepFor(absl::Microseconds(500));
    }
    const double ms = (NowNs() - landed) / 1e6;
    swaps->End(seen, absl::StrFormat("delta %d %s after %.1f ms", sequence,
                                     seen ? "applied" : "NOT applied", ms));
    if (!seen) {
      r.error = absl::StrFormat("delta %d was not applied within 30 s", sequence);
      return r;
    }
    ++r.applied;
    r.visible_ms.push_back(ms);
  }
  return r;
}

TouchedJudgement JudgeTouched(const FeedPlan& plan, const FeedResult& feed,
                              const std::vector<ThreadResult>& results) {
  TouchedJudgement j;
  const uint64_t before = plan.first_sequence - 1;
  for (const ThreadResult& t : results) {
    for (const TouchedAnswer& a : t.touched) {
      auto it = feed.generations.find(a.generation);
      if (it == feed.generations.end() || it->second < before ||
          it->second - before > plan.files.size()) {
        ++j.unjudged;
        continue;
      }
      ++j.judged;
      const Answer want = plan.Expected(it->second - before, a.index);
      if (a.answer == want) continue;
      ++j.wrong;
      if (j.samples.size() < 8) {
        j.samples.push_back(absl::StrFormat(
            "wrong answer for touched %s at generation %d (sequence %d): %s, expected %s",
            plan.touched[a.index].view(), a.generation, it->second, AnswerName(a.answer),
            AnswerName(want)));
      }
    }
  }
  return j;
}

}  // namespace shixin::loadtest
