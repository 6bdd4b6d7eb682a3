#include "loadtest/driver.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <deque>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "base/enum_names.h"
#include "base/socket.h"
#include "base/status_macros.h"
#include "protocol/client.h"

namespace shixin::loadtest {

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

absl::StatusOr<int> ConnectTcp(std::string_view address) {
  return shixin::ConnectTcp(address, absl::InfiniteFuture());
}

void SwapTracker::Begin() {
  absl::MutexLock lock(&mu_);
  windows_.push_back(Window{NowNs(), 0, true, ""});
  seq_.fetch_add(1, std::memory_order_acq_rel);
}

void SwapTracker::End(bool ok, std::string message) {
  absl::MutexLock lock(&mu_);
  seq_.fetch_add(1, std::memory_order_acq_rel);
  windows_.back().end_ns = NowNs();
  windows_.back().ok = ok;
  windows_.back().message = std::move(message);
}

bool SwapTracker::Succeeded(size_t k) const {
  absl::MutexLock lock(&mu_);
  return k < windows_.size() && windows_[k].ok;
}

void SwapPart::Merge(const SwapPart& other) {
  latency.Merge(other.latency);
  answers += other.answers;
  wrong += other.wrong;
  errors += other.errors;
}

void SwapPart::Clear() {
  latency.Clear();
  answers = wrong = errors = 0;
}

std::vector<SwapTracker::Window> SwapTracker::windows() const {
  absl::MutexLock lock(&mu_);
  return windows_;
}

std::string_view AnswerName(Answer a) {
  static constexpr std::string_view kNames[] = {"unlisted", "listed", "related", "invalid"};
  return EnumName(a, kNames, "?");
}

namespace {

constexpr size_t kMaxSamples = 8;
constexpr size_t kReadSize = size_t{256} * 1024;

struct Pending {
  uint32_t request_id;
  uint16_t n;  // IDs
  bool measures;
  uint64_t seq;          // SwapTracker::seq() when sent
  int64_t t0;            // when due (open loop) or sent (closed loop)
  bool retried = false;  // sent again on a new connection (RunConfig::reconnect)
};

struct Expect {
  const FixedId* id;
  IdClass cls;
};

struct Conn {
  int fd = -1;
  bool dead = false;
  bool want_write = false;
  std::unique_ptr<Codec> codec;
  std::string in;
  size_t in_off = 0;
  std::string out;
  size_t out_off = 0;
  std::deque<Pending> pending;
  std::deque<Expect> expect;
  uint32_t next_id = 0;
};

std::string_view ClassName(IdClass c) {
  static constexpr std::string_view kNames[] = {"hit", "miss", "related", "touched"};
  return EnumName(c, kNames, "?");
}

class Loop {
 public:
  Loop(const RunConfig& config, int index, const IdPool& pool, SwapTracker* swaps)
      : c_(config),
        index_(index),
        picker_(pool, config.shape.mix, config.seed * 7919 + index),
        swaps_(swaps),
        buf_(kReadSize) {}
  ~Loop() {
    for (Conn& conn : conns_) {
      if (conn.fd >= 0) close(conn.fd);
    }
    if (ep_ >= 0) close(ep_);
  }

  ThreadResult Run();

 private:
  absl::Status Open();
  bool CanIssue() const { return limit_ == 0 || issued_ < limit_; }
  void Issue(Conn* conn, int64_t t0, uint64_t seq);
  void Dispatch(int64_t now);
  void Flush(Conn* conn);
  void Read(Conn* conn);
  void Complete(Conn* conn, const ParsedResponse& r, int64_t now);
  void Kill(Conn* conn, const std::string& why);
  // Opens `conn` again and sends its pending requests once more (those sent twice are errors).
  // Returns false if the connection or its handshake fails.
  bool Reconnect(Conn* conn);
  // Opens a connection for conns_[i] and registers it with epoll.
  absl::Status Connect(size_t i);
  void Sample(const std::string& what) {
    if (r_.samples.size() < kMaxSamples) r_.samples.push_back(what);
  }
  Second& SecondAt(int64_t now);
  // Where a request sent at swap sequence `sent` and answered at `now_seq` is counted: nullptr
  // if it overlapped no window (outside), else r_.in_swap or r_.undecided; see SwapPart.
  SwapPart* SwapPartOf(uint64_t sent, uint64_t now_seq);
  // Whether window `k`, which has ended, succeeded (asked once per window).
  bool WindowSucceeded(size_t k);
  // Places r_.undecided once its window has ended.
  void Decide();

  const RunConfig& c_;
  const int index_;
  Picker picker_;
  SwapTracker* swaps_;
  std::vector<char> buf_;
  std::vector<Conn> conns_;
  int ep_ = -1;
  ThreadResult r_;
  uint64_t limit_ = 0;
  uint64_t issued_ = 0;
  uint64_t in_flight_ = 0;
  size_t rr_ = 0;  // round-robin position (open loop)
  // Open loop schedule: request k of this thread is due at first_due_ + k * interval_.
  double interval_ns_ = 0;
  int64_t first_due_ = 0;
  uint64_t next_k_ = 0;
  std::vector<const FixedId*> ids_;
  ParsedResponse parsed_;
  std::vector<int8_t> outcomes_;  // by window: -1 not asked yet, 0 failed, 1 succeeded
};

absl::Status Loop::Open() {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0) return absl::InternalError("epoll_create1 failed");
  const int n = c_.shape.connections / c_.shape.threads +
                (index_ < c_.shape.connections % c_.shape.threads ? 1 : 0);
  conns_.resize(n);
  // Thread t opens connections first + 1 to first + n of the run's (for the messages).
  int first = 0;
  for (int t = 0; t < index_; ++t) {
    first += c_.shape.connections / c_.shape.threads +
             (t < c_.shape.connections % c_.shape.threads ? 1 : 0);
  }
  for (int i = 0; i < n; ++i) {
    if (absl::Status s = Connect(i); !s.ok()) {
      return absl::Status(s.code(), absl::StrFormat("connection %d of %d: %s", first + i + 1,
                                                    c_.shape.connections, s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status Loop::Connect(size_t i) {
  Conn& conn = conns_[i];
  absl::StatusOr<int> fd = ConnectTcp(c_.address);
  if (!fd.ok()) return fd.status();
  conn.fd = *fd;
  if (!conn.codec) conn.codec = c_.codec();
  // The handshake blocks: bound it, so that a lost server does not hang the thread.
  const timeval hello_timeout{5, 0};
  setsockopt(conn.fd, SOL_SOCKET, SO_RCVTIMEO, &hello_timeout, sizeof(hello_timeout));
  SHIXIN_RETURN_IF_ERROR(conn.codec->Handshake(conn.fd));
  fcntl(conn.fd, F_SETFL, fcntl(conn.fd, F_GETFL) | O_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = static_cast<uint32_t>(i);
  epoll_ctl(ep_, EPOLL_CTL_ADD, conn.fd, &ev);
  return absl::OkStatus();
}

void Loop::Issue(Conn* conn, int64_t t0, uint64_t seq) {
  const bool measures = picker_.NextIsMeasures();
  const size_t n = measures ? 1 : c_.shape.batch;
  ids_.clear();
  for (size_t i = 0; i < n; ++i) {
    IdClass cls;
    const FixedId& id = picker_.Pick(&cls);
    ids_.push_back(&id);
    conn->expect.push_back(Expect{&id, cls});
  }
  const uint32_t rid = ++conn->next_id;
  if (measures) {
    conn->codec->AppendMeasures(rid, *ids_[0], &conn->out);
  } else {
    conn->codec->AppendCheck(rid, ids_.data(), n, &conn->out);
  }
  conn->pending.push_back(Pending{rid, static_cast<uint16_t>(n), measures, seq, t0});
  ++issued_;
  ++in_flight_;
}

void Loop::Dispatch(int64_t now) {
  const uint64_t seq = swaps_->seq();
  if (c_.shape.rate <= 0) {
    for (Conn& conn : conns_) {
      while (!conn.dead && conn.pending.size() < static_cast<size_t>(c_.shape.depth) &&
             CanIssue()) {
        Issue(&conn, now, seq);
      }
    }
    return;
  }
  while (CanIssue()) {
    const int64_t due = first_due_ + static_cast<int64_t>(next_k_ * interval_ns_);
    if (due > now) break;
    Conn* free_conn = nullptr;
    for (size_t tries = 0; tries < conns_.size(); ++tries) {
      Conn& conn = conns_[rr_++ % conns_.size()];
      if (!conn.dead && conn.pending.size() < static_cast<size_t>(c_.shape.depth)) {
        free_conn = &conn;
        break;
      }
    }
    if (free_conn == nullptr) break;  // backlog: the request waits, its clock running
    Issue(free_conn, due, seq);
    ++next_k_;
  }
}

void Loop::Flush(Conn* conn) {
  while (conn->out_off < conn->out.size()) {
    const ssize_t w =
        write(conn->fd, conn->out.data() + conn->out_off, conn->out.size() - conn->out_off);
    if (w > 0) {
      conn->out_off += w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!conn->want_write) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.u32 = static_cast<uint32_t>(conn - conns_.data());
        epoll_ctl(ep_, EPOLL_CTL_MOD, conn->fd, &ev);
        conn->want_write = true;
      }
      return;
    }
    Kill(conn, absl::StrFormat("write: %s", std::strerror(errno)));
    return;
  }
  conn->out.clear();
  conn->out_off = 0;
  if (conn->want_write) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(conn - conns_.data());
    epoll_ctl(ep_, EPOLL_CTL_MOD, conn->fd, &ev);
    conn->want_write = false;
  }
}

void Loop::Kill(Conn* conn, const std::string& why) {
  if (conn->dead) return;
  epoll_ctl(ep_, EPOLL_CTL_DEL, conn->fd, nullptr);
  close(conn->fd);
  conn->fd = -1;
  conn->in.clear();
  conn->in_off = 0;
  conn->out.clear();
  conn->out_off = 0;
  conn->want_write = false;
  if (c_.reconnect && Reconnect(conn)) return;
  conn->dead = true;
  Sample(absl::StrFormat("connection lost (%s) with %d requests in flight", why,
                         conn->pending.size()));
  r_.errors += conn->pending.size();
  SecondAt(NowNs()).errors += conn->pending.size();
  in_flight_ -= conn->pending.size();
  conn->pending.clear();
  conn->expect.clear();
}

bool Loop::Reconnect(Conn* conn) {
  // A new connection that fails before it carries a request (refused, or closed during HELLO:
  // a load balancer still sending it to the replica that just died) is opened again, as the
  // C++ client does (ClientOptions::kReconnectAttempts).
  absl::Status s;
  for (int attempt = 0; attempt < ClientOptions::kReconnectAttempts; ++attempt) {
    if (attempt > 0) absl::SleepFor(ClientOptions::kReconnectPause * attempt);
    s = Connect(static_cast<size_t>(conn - conns_.data()));
    if (s.ok()) break;
    if (conn->fd >= 0) close(conn->fd);
    conn->fd = -1;
  }
  if (!s.ok()) {
    Sample(absl::StrFormat("reconnection failed %d times: %s", ClientOptions::kReconnectAttempts,
                           s.message()));
    return false;
  }
  ++r_.reconnects;
  std::deque<Pending> pending;
  std::deque<Expect> expect;
  pending.swap(conn->pending);
  expect.swap(conn->expect);
  for (Pending& p : pending) {
    const auto first = expect.begin();
    const auto last = first + static_cast<std::ptrdiff_t>(p.n);
    if (p.retried) {  // lost twice: an error at the application
      ++r_.errors;
      ++SecondAt(NowNs()).errors;
      --in_flight_;
      Sample(absl::StrFormat("request %d lost on two connections", p.request_id));
      expect.erase(first, last);
      continue;
    }
    p.retried = true;
    ids_.clear();
    for (auto it = first; it != last; ++it) ids_.push_back(it->id);
    if (p.measures) {
      conn->codec->AppendMeasures(p.request_id, *ids_[0], &conn->out);
    } else {
      conn->codec->AppendCheck(p.request_id, ids_.data(), p.n, &conn->out);
    }
    conn->expect.insert(conn->expect.end(), first, last);
    expect.erase(first, last);
    conn->pending.push_back(p);
    ++r_.retried;
  }
  return true;
}

Second& Loop::SecondAt(int64_t now) {
  const size_t s = static_cast<size_t>(std::max<int64_t>(0, now - c_.start_ns) / 1'000'000'000);
  while (r_.seconds.size() <= s) {
    r_.seconds.emplace_back();
    if (c_.per_second_histograms) r_.seconds.back().latency = std::make_unique<Histogram>();
  }
  return r_.seconds[s];
}

bool Loop::WindowSucceeded(size_t k) {
  if (outcomes_.size() <= k) outcomes_.resize(k + 1, -1);
  if (outcomes_[k] < 0) outcomes_[k] = swaps_->Succeeded(k) ? 1 : 0;
  return outcomes_[k] == 1;
}

void Loop::Decide() {
  if (r_.undecided_window < 0) return;
  const size_t k = static_cast<size_t>(r_.undecided_window);
  if (swaps_->seq() < 2 * k + 2) return;  // still running
  if (WindowSucceeded(k)) {
    r_.in_swap.Merge(r_.undecided);
  } else {
    r_.outside.Merge(r_.undecided.latency);
  }
  r_.undecided.Clear();
  r_.undecided_window = -1;
}

SwapPart* Loop::SwapPartOf(uint64_t sent, uint64_t now_seq) {
  if (now_seq == 0) return nullptr;
  const uint64_t first = sent / 2;          // the first window that ended after the send
  const uint64_t last = (now_seq - 1) / 2;  // the last one that began before the answer
  if (first > last) return nullptr;
  const bool last_running = (now_seq & 1) != 0;
  for (uint64_t k = first; k <= last; ++k) {
    if (!(last_running && k == last) && WindowSucceeded(k)) return &r_.in_swap;
  }
  if (!last_running) return nullptr;  // only failed windows: no swap happened
  Decide();
  if (r_.undecided_window != static_cast<int64_t>(last)) {
    r_.undecided_window = static_cast<int64_t>(last);  // the previous one was decided
  }
  return &r_.undecided;
}

void Loop::Complete(Conn* conn, const ParsedResponse& r, int64_t now) {
  const Pending p = conn->pending.front();
  conn->pending.pop_front();
  --in_flight_;
  const uint64_t seq_now = swaps_->seq();
  const bool in_swap = (p.seq & 1) != 0 || seq_now != p.seq;  // a window, even a failed one
  Decide();
  SwapPart* swap = in_swap ? SwapPartOf(p.seq, seq_now) : nullptr;
  const bool measured = p.t0 >= c_.start_ns + c_.warmup_ns;
  Second& sec = SecondAt(now);
  const auto expected = conn->expect.begin();
  const auto done = [&] { conn->expect.erase(expected, expected + p.n); };
  if (!r.ok || r.answers.size() != p.n) {
    ++r_.errors;
    ++sec.errors;
    if (swap != nullptr) ++swap->errors;
    Sample(r.ok ? absl::StrFormat("%d answers for %d IDs", r.answers.size(), p.n)
                : absl::StrFormat("error answer: %s", r.error));
    if (!r.ok) {  // refused: counted apart, by status, never timed
      ++sec.refused;
      ++r_.whole_refused;
      if (measured) {
        ++r_.refused;
        ++r_.refused_by_status[r.error.substr(0, r.error.find_first_of(": "))];
      }
    }
    return done();
  }
  uint64_t wrong = 0;
  for (size_t i = 0; i < p.n; ++i) {
    const Expect& e = expected[static_cast<std::ptrdiff_t>(i)];
    if (e.cls == IdClass::kTouched) {
      r_.touched.push_back(TouchedAnswer{picker_.TouchedIndex(*e.id), r.generation, r.answers[i]});
      continue;
    }
    const Answer want = conn->codec->Expected(e.cls);
    if (r.answers[i] == want) continue;
    ++wrong;
    Sample(absl::StrFormat("wrong answer for %s (%s): %s, expected %s%s", e.id->view(),
                           ClassName(e.cls), AnswerName(r.answers[i]), AnswerName(want),
                           in_swap ? " (during a swap)" : ""));
  }
  done();
  r_.wrong += wrong;
  sec.wrong += wrong;
  if (swap != nullptr) {
    swap->answers += p.n;
    swap->wrong += wrong;
  }
  ++r_.whole_requests;
  r_.whole_ids += p.n;
  // The time series covers the whole run, warm-up included; the summary the measured part.
  const uint64_t latency = static_cast<uint64_t>(std::max<int64_t>(0, now - p.t0));
  ++sec.requests;
  sec.ids += p.n;
  if (sec.latency) sec.latency->Record(latency);
  if (!measured) return;
  r_.all.Record(latency);
  (swap != nullptr ? swap->latency : r_.outside).Record(latency);
  ++r_.requests;
  r_.ids += p.n;
}

void Loop::Read(Conn* conn) {
  const ssize_t got = read(conn->fd, buf_.data(), buf_.size());
  if (got == 0) return Kill(conn, "closed by the server");
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    return Kill(conn, absl::StrFormat("read: %s", std::strerror(errno)));
  }
  const int64_t now = NowNs();
  conn->in.append(buf_.data(), got);
  while (!conn->dead) {
    size_t consumed = 0;
    parsed_.answers.clear();
    parsed_.ok = true;
    const ParseResult pr =
        conn->codec->Parse(std::string_view(conn->in).substr(conn->in_off), &consumed, &parsed_);
    if (pr == ParseResult::kNeedMore) break;
    if (pr == ParseResult::kMalformed) return Kill(conn, "malformed response");
    conn->in_off += consumed;
    if (conn->pending.empty()) return Kill(conn, "an answer to no request");
    if (conn->codec->uses_request_ids() && parsed_.request_id != conn->pending.front().request_id) {
      return Kill(conn, absl::StrFormat("request id %d answered, %d expected", parsed_.request_id,
                                        conn->pending.front().request_id));
    }
    Complete(conn, parsed_, now);
  }
  if (conn->in_off == conn->in.size()) {
    conn->in.clear();
    conn->in_off = 0;
  } else if (conn->in_off > 65536) {
    conn->in.erase(0, conn->in_off);
    conn->in_off = 0;
  }
}

ThreadResult Loop::Run() {
  if (absl::Status s = Open(); !s.ok()) {
    r_.status = s;
    return std::move(r_);
  }
  limit_ = c_.requests / c_.shape.threads + (index_ == 0 ? c_.requests % c_.shape.threads : 0);
  // The closed loop starts at the run's start too: a request sent before it would not be
  // measured (a short --requests run could end before the start, measuring nothing).
  if (const int64_t early = c_.start_ns - NowNs(); early > 0) {
    const timespec ts{early / 1'000'000'000, early % 1'000'000'000};
    nanosleep(&ts, nullptr);
  }
  if (c_.shape.rate > 0) {
    interval_ns_ = 1e9 * c_.shape.threads / c_.shape.rate;
    first_due_ = c_.start_ns + static_cast<int64_t>(interval_ns_ * index_ / c_.shape.threads);
  }
  std::vector<epoll_event> events(64);
  int64_t stopped_at = 0;
  while (true) {
    const int64_t now = NowNs();
    bool alive = false;
    for (const Conn& conn : conns_) alive = alive || !conn.dead;
    if (!alive) {  // nothing more can be sent or answered: the run ends now, for this thread
      r_.all_lost_ns = now;
      if (stopped_at == 0) stopped_at = now;
      break;
    }
    // Once stopped, stopped for good (the end may still move, e.g. after the last reload).
    const bool stop =
        stopped_at != 0 || now >= c_.end_ns->load(std::memory_order_relaxed) || !CanIssue();
    if (stop && stopped_at == 0) {
      stopped_at = now;
      // Send what fell due before the end (open loop), so only a real backlog counts unsent.
      if (c_.shape.rate > 0 && CanIssue()) Dispatch(c_.end_ns->load(std::memory_order_relaxed) - 1);
    }
    if (!stop) Dispatch(now);
    for (Conn& conn : conns_) {
      if (!conn.dead && conn.out_off < conn.out.size()) Flush(&conn);
    }
    if (stop && in_flight_ == 0) break;
    if (stop && now - stopped_at > c_.drain_ns) {
      Sample(absl::StrFormat("%d requests unanswered %.1f s after the end", in_flight_,
                             c_.drain_ns / 1e9));
      r_.errors += in_flight_;
      SecondAt(now).errors += in_flight_;
      break;
    }
    int64_t wait = 100'000'000;
    if (!stop) {
      wait = std::min(wait, c_.end_ns->load(std::memory_order_relaxed) - now);
      if (c_.shape.rate > 0) {
        const int64_t due = first_due_ + static_cast<int64_t>(next_k_ * interval_ns_);
        wait = std::min(wait, due - now);
      }
    }
    wait = std::max<int64_t>(wait, 0);
    timespec ts{wait / 1'000'000'000, wait % 1'000'000'000};
    const int n = epoll_pwait2(ep_, events.data(), static_cast<int>(events.size()), &ts, nullptr);
    for (int i = 0; i < n; ++i) {
      Conn& conn = conns_[events[i].data.u32];
      if (conn.dead) continue;
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) Read(&conn);
      if (!conn.dead && (events[i].events & EPOLLOUT)) Flush(&conn);
    }
  }
  Decide();
  r_.last_send_ns = stopped_at;
  if (c_.shape.rate > 0) {
    // Requests due before the end that were never sent: no free connection, or none left at
    // all (then every request due until the run's planned end, or until now if the end is
    // open, e.g. waiting for reloads).
    int64_t end = std::min(stopped_at, c_.end_ns->load());
    if (r_.all_lost_ns != 0 && c_.end_ns->load() != INT64_MAX) end = c_.end_ns->load();
    const double due = std::ceil((end - first_due_) / interval_ns_);
    if (due > static_cast<double>(next_k_)) {
      uint64_t unsent = static_cast<uint64_t>(due) - next_k_;
      if (limit_ != 0) unsent = std::min(unsent, limit_ - issued_);
      r_.unsent = unsent;
    }
  }
  return std::move(r_);
}

}  // namespace

ThreadResult RunThread(const RunConfig& config, int index, const IdPool& pool, SwapTracker* swaps) {
  Loop loop(config, index, pool, swaps);
  return loop.Run();
}

}  // namespace shixin::loadtest
