#include "loadtest/report.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace shixin::loadtest {
namespace {

Report Sample() {
  Report r;
  r.run.target = "shixin";
  r.run.address = "127.0.0.1:7411";
  r.run.label = "d16 \"quoted\"\n";
  r.run.shape.connections = 50;
  r.run.shape.depth = 16;
  r.run.shape.batch = 1;
  r.run.shape.threads = 1;
  r.run.shape.rate = 20000.4;
  r.run.refresh = "shixind RELOAD";
  r.measured_seconds = 2;
  for (uint64_t ns = 1000; ns <= 100000; ns += 1000) r.all.Record(ns);
  r.in_swap.Record(5555);
  r.requests = 3;
  r.ids = 7;
  r.whole_requests = 5;
  r.whole_ids = 11;
  r.wrong = 1;
  r.windows.push_back({1'000'000'000, 1'234'567'890, false, "bad list"});
  r.samples = {"one", "two"};
  return r;
}

TEST(ReportTest, JsonSummaryHasTheDocumentedShape) {
  const std::string text = JsonSummary(Sample());
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_NE(text.find("\"wrong\":1,"), std::string::npos) << text;  // compact, as scripts grep
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(text, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << text;
  std::vector<std::string> keys;
  for (const auto& [key, value] : j.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"label",
                                            "target",
                                            "address",
                                            "mode",
                                            "rate",
                                            "connections",
                                            "depth",
                                            "batch",
                                            "threads",
                                            "mix",
                                            "seconds",
                                            "requests",
                                            "ids",
                                            "throughput_rps",
                                            "throughput_ids",
                                            "refused",
                                            "refused_by_status",
                                            "whole_run",
                                            "errors",
                                            "wrong",
                                            "unsent",
                                            "all_connections_lost_s",
                                            "interrupted",
                                            "reconnects",
                                            "retried",
                                            "latency_us",
                                            "swap",
                                            "outside_swap",
                                            "samples"}));
  EXPECT_EQ(j["label"], "d16 \"quoted\"\n");
  EXPECT_EQ(j["mode"], "open");
  EXPECT_EQ(j["rate"], 20000);
  EXPECT_EQ(j["mix"]["hit"], 0.5);
  EXPECT_EQ(j["throughput_rps"], 1.5);
  EXPECT_EQ(j["throughput_ids"], 3.5);
  EXPECT_EQ(j["whole_run"]["requests"], 5);  // warm-up included: server CPU is per whole run
  EXPECT_EQ(j["whole_run"]["ids"], 11);
  EXPECT_EQ(j["refused"], 0);
  EXPECT_TRUE(j["refused_by_status"].is_object() && j["refused_by_status"].empty());
  EXPECT_TRUE(j["all_connections_lost_s"].is_null());
  EXPECT_TRUE(j["interrupted"].is_null());
  EXPECT_EQ(j["latency_us"]["count"], 100);
  EXPECT_EQ(j["latency_us"]["mean"], 50.5);
  EXPECT_EQ(j["swap"]["refresh"], "shixind RELOAD");
  EXPECT_EQ(j["swap"]["windows"][0]["begin_s"], 1.0);
  EXPECT_EQ(j["swap"]["windows"][0]["end_s"], 1.235);
  EXPECT_EQ(j["swap"]["windows"][0]["ok"], false);
  EXPECT_EQ(j["swap"]["windows"][0]["message"], "bad list");
  EXPECT_EQ(j["swap"]["requests"], 1);
  EXPECT_EQ(j["outside_swap"]["latency_us"]["count"], 0);
  EXPECT_EQ(j["samples"], (std::vector<std::string>{"one", "two"}));
}

TEST(ReportTest, MergeResultsAddsTheWholeRunApartFromTheMeasuredPart) {
  std::vector<ThreadResult> threads(2);
  threads[0].requests = 3;
  threads[0].whole_requests = 4;
  threads[0].whole_ids = 40;
  threads[1].requests = 5;
  threads[1].whole_requests = 7;
  threads[1].whole_ids = 70;
  Report r;
  MergeResults(&threads, &r);
  EXPECT_EQ(r.requests, 8);
  EXPECT_EQ(r.whole_requests, 11);
  EXPECT_EQ(r.whole_ids, 110);
}

// A run that measured nothing (every connection lost in the warm-up) reports 0 s and no rate,
// never a made-up second.
TEST(ReportTest, NothingMeasuredGivesNoRate) {
  Report r = Sample();
  r.measured_seconds = 0;
  r.all_lost_seconds = 0.5;
  const nlohmann::json j = nlohmann::json::parse(JsonSummary(r));
  EXPECT_EQ(j["seconds"], 0.0);
  EXPECT_EQ(j["throughput_rps"], 0.0);
  EXPECT_EQ(j["all_connections_lost_s"], 0.5);
  EXPECT_NE(TextSummary(r).find("0.0 s measured: 3 requests answered (0/s)"), std::string::npos)
      << TextSummary(r);
  EXPECT_NE(TextSummary(r).find("every connection lost 0.5 s into the run"), std::string::npos);
}

// Refusals are counted apart, by status, and said in the summary.
TEST(ReportTest, RefusalsAreCountedApart) {
  std::vector<ThreadResult> threads(2);
  threads[0].requests = 2;
  threads[0].refused = 5;
  threads[0].refused_by_status = {{"RATE_LIMITED", 5}};
  threads[1].refused = 3;
  threads[1].refused_by_status = {{"RATE_LIMITED", 2}, {"UNAUTHENTICATED", 1}};
  Report r;
  MergeResults(&threads, &r);
  r.measured_seconds = 1;
  const nlohmann::json j = nlohmann::json::parse(JsonSummary(r));
  EXPECT_EQ(j["requests"], 2);
  EXPECT_EQ(j["throughput_rps"], 2.0);
  EXPECT_EQ(j["refused"], 8);
  EXPECT_EQ(j["refused_by_status"]["RATE_LIMITED"], 7);
  EXPECT_EQ(j["refused_by_status"]["UNAUTHENTICATED"], 1);
  EXPECT_NE(TextSummary(r).find("8 refused (RATE_LIMITED 7, UNAUTHENTICATED 1)"), std::string::npos)
      << TextSummary(r);
}

TEST(ReportTest, InvalidUtf8IsReplacedNotFatal) {
  Report r = Sample();
  r.run.label = "bad \xFF byte";
  const nlohmann::json j = nlohmann::json::parse(JsonSummary(r), nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["label"], "bad \xEF\xBF\xBD byte");
}

TEST(ReportTest, RedisLoadJson) {
  EXPECT_EQ(RedisLoadJson({1000, 2.0004, 123456}),
            R"({"keys":1000,"load_seconds":2.0,"used_memory":123456})");
}

}  // namespace
}  // namespace shixin::loadtest
