#include "daemon/http_service.h"

#include <atomic>
#include <cerrno>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "audit/audit_test_util.h"
#include "daemon/auditor.h"
#include "daemon/config.h"
#include "daemon/handler.h"
#include "daemon/handler_test_util.h"
#include "daemon/metrics.h"
#include "daemon/snapshot_holder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

constexpr int64_t kNow = 1'800'000'000;

class HttpServiceTest : public ::testing::Test {
 protected:
  // Makes the handler and the service with max_age_seconds `max_age`.
  void Make(uint32_t max_age) {
    config_.max_age_seconds = max_age;
    handler_ = std::make_unique<Handler>(config_, &holder_, [] { return kNow; });
    service_ = std::make_unique<HttpService>(handler_.get(), &holder_, [] { return kNow; });
  }

  HttpReply Get(std::string_view target, std::string_view method = "GET") {
    HttpRequest request;
    request.method = method;
    request.target = target;
    request.peer = &peer_;
    return service_->Serve(request);
  }

  RcuThread rcu_;
  Config config_;
  SnapshotHolder holder_;
  Peer peer_{"127.0.0.1:1", true, {}};
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<HttpService> service_;
};

TEST_F(HttpServiceTest, HealthzAnswersOk) {
  Make(0);
  const HttpReply r = Get("/healthz");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "ok\n");
  EXPECT_THAT(r.content_type, HasSubstr("text/plain"));
}

TEST_F(HttpServiceTest, ReadyzWithoutAListIsUnavailable) {
  Make(0);
  const HttpReply r = Get("/readyz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_THAT(r.body, HasSubstr("\"code\":\"unavailable\""));
  EXPECT_THAT(r.body, HasSubstr("no list"));
}

TEST_F(HttpServiceTest, ReadyzWithAFreshListIsReady) {
  holder_.Publish(handler_testing::Sample(kNow - 100));
  Make(3600);
  const HttpReply r = Get("/readyz");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "ready\n");
}

TEST_F(HttpServiceTest, ReadyzWithAStaleListIsUnavailable) {
  holder_.Publish(handler_testing::Sample(kNow - 7200));
  Make(3600);
  const HttpReply r = Get("/readyz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_THAT(r.body, HasSubstr("stale"));
  EXPECT_THAT(r.body, HasSubstr("7200 s old"));
}

// From SIGTERM on (Server::BeginShutdown()), /readyz says "stopping" so that a balancer takes
// the draining replica out; /healthz still answers (the process does).
TEST_F(HttpServiceTest, ReadyzOfAStoppingDaemonIsUnavailable) {
  holder_.Publish(handler_testing::Sample(kNow - 100));
  Make(3600);
  service_->SetStopping();
  const HttpReply r = Get("/readyz");
  EXPECT_EQ(r.status, 503u);
  EXPECT_THAT(r.body, HasSubstr("\"code\":\"stopping\""));
  EXPECT_EQ(Get("/healthz").status, 200u);
}

TEST_F(HttpServiceTest, ReadyzWithoutMaxAgeIsNeverStale) {
  holder_.Publish(handler_testing::Sample(kNow - 365 * 86400));
  Make(0);
  EXPECT_EQ(Get("/readyz").status, 200u);
}

// The attack: the audit cannot be written (a full disk) with audit_required, so that every
// MEASURES is refused (before: /readyz stayed 200, the load balancer kept the replica in its
// pool, and /metrics had no audit state). /readyz answers 503 audit_unavailable and
// shixin_audit_writable is 0 until the audit is written again; without audit_required the
// replica stays ready (MEASURES answers without receipts).
TEST_F(HttpServiceTest, ReadyzIsUnavailableWhileTheRequiredAuditFails) {
  audit::testing::ScratchDir dir;
  audit::testing::FaultyOps ops;
  std::atomic<int64_t> now_micros{absl::ToUnixMicros(absl::Now())};
  audit::AuditLog::Options options;
  options.file_ops = &ops;
  options.now_micros = [&now_micros] { return now_micros.load(); };
  holder_.Publish(handler_testing::Sample(kNow - 100));
  for (const bool required : {true, false}) {
    SCOPED_TRACE(required);
    config_.state_dir = dir.path() + (required ? "/required" : "/optional");
    config_.audit_required = required;
    absl::StatusOr<std::unique_ptr<Auditor>> auditor = Auditor::Open(config_, options, nullptr);
    ASSERT_TRUE(auditor.ok()) << auditor.status();
    handler_ = std::make_unique<Handler>(
        config_, &holder_, [] { return kNow; }, nullptr, nullptr, auditor->get());
    service_ = std::make_unique<HttpService>(handler_.get(), &holder_, [] { return kNow; });
    const Metrics metrics(MetricsSources{&holder_, nullptr, nullptr, nullptr, auditor->get()});
    EXPECT_EQ(Get("/readyz").status, 200u);
    EXPECT_THAT(metrics.Scrape(), HasSubstr("\nshixin_audit_writable 1\n"));

    ops.error = ENOSPC;
    audit::QueryRecord record = audit::testing::TypicalQuery("11010519491231002X", 0);
    absl::StatusOr<audit::AuditLog::Appended> appended = (*auditor)->Record(&record);
    ASSERT_TRUE(appended.ok()) << appended.status();
    ASSERT_FALSE((*auditor)->Sync(appended->ticket).ok());
    const HttpReply r = Get("/readyz");
    if (required) {
      EXPECT_EQ(r.status, 503u);
      EXPECT_THAT(r.body, HasSubstr("\"code\":\"audit_unavailable\""));
      EXPECT_THAT(r.body, HasSubstr("the audit cannot be written; MEASURES is refused"));
      // No credentials are needed here: no path of state_dir, no error text.
      EXPECT_THAT(r.body, Not(HasSubstr(dir.path())));
      EXPECT_THAT(r.body, Not(HasSubstr("write ")));
    } else {
      EXPECT_EQ(r.status, 200u);
    }
    EXPECT_THAT(metrics.Scrape(), HasSubstr("\nshixin_audit_writable 0\n"));

    // Space returns: the audit probes itself once a retry is due, without a query.
    ops.error = 0;
    now_micros += 2'000'000;
    bool writable = false;
    for (int i = 0; i < 500 && !writable; ++i) {
      absl::SleepFor(absl::Milliseconds(10));
      writable = absl::StrContains(metrics.Scrape(), "\nshixin_audit_writable 1\n");
    }
    EXPECT_TRUE(writable);
    EXPECT_EQ(Get("/readyz").status, 200u);
    handler_.reset();
    service_.reset();
  }
}

// "/status/" too: served, it would slip past a balancer's exact-path rule for /status.
TEST_F(HttpServiceTest, UnknownPathIsNotFound) {
  Make(0);
  for (const char* target : {"/", "/healthz/x", "/v1", "/metricsx", "/statusx", "/status/",
                             "/status/x", "/metrics/", "nothing"}) {
    const HttpReply r = Get(target);
    EXPECT_EQ(r.status, 404u) << target;
    EXPECT_THAT(r.body, HasSubstr("\"code\":\"not_found_path\"")) << target;
  }
}

TEST_F(HttpServiceTest, WrongMethodIsNotAllowedWithAllow) {
  Make(0);
  for (const char* target : {"/healthz", "/readyz", "/metrics", "/status"}) {
    const HttpReply r = Get(target, "POST");
    EXPECT_EQ(r.status, 405u) << target;
    EXPECT_THAT(r.body, HasSubstr("\"code\":\"method_not_allowed\"")) << target;
    EXPECT_THAT(r.headers, ::testing::Contains(Pair("Allow", "GET, HEAD"))) << target;
  }
}

TEST_F(HttpServiceTest, UnsetSlotsAreNotFound) {
  Make(0);
  for (const char* target : {"/metrics", "/status", "/v1/check"}) {
    const HttpReply r = Get(target);
    EXPECT_EQ(r.status, 404u) << target;
    EXPECT_THAT(r.body, HasSubstr("not_found_path")) << target;
  }
}

TEST_F(HttpServiceTest, SlotsGetTheirPaths) {
  Make(0);
  std::string seen;
  const auto slot = [&seen](const std::string& name) {
    return [&seen, name](const HttpRequest& request) {
      seen = name + " " + std::string(request.method) + " " + std::string(request.target);
      HttpReply reply;
      reply.body = name;
      return reply;
    };
  };
  service_->metrics = slot("metrics");
  service_->status = slot("status");
  service_->api = slot("api");
  EXPECT_EQ(Get("/metrics").body, "metrics");
  EXPECT_EQ(Get("/status").body, "status");
  EXPECT_EQ(Get("/status?x=1").body, "status");
  EXPECT_EQ(seen, "status GET /status?x=1");
  // The API gets every method: it routes its own.
  EXPECT_EQ(Get("/v1/check", "POST").body, "api");
  EXPECT_EQ(seen, "api POST /v1/check");
  EXPECT_EQ(Get("/v1/subjects/123?asOf=1").body, "api");
  // The query does not change the route.
  EXPECT_EQ(Get("/healthz?probe=1").status, 200u);
}

TEST(JsonErrorTest, HasTheCodeAndTheMessage) {
  const HttpReply r = JsonError(413, "payload_too_large", "too \"big\"");
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"error":{"code":"payload_too_large","message":"too \"big\""}})");
}

}  // namespace
}  // namespace shixin
