// Protocol version 4 end to end against a shixind without an audit (no state_dir): the client
// and the CLI negotiate 4, send the request context, get receipts "" and FEEDBACK refused with
// AUDIT_UNAVAILABLE; an older client keeps version 3. (The audit itself: issue 12, wave 2.)
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/terminal.h"
#include "gmock/gmock.h"
#include "tests/daemon_harness.h"

namespace shixin::e2e {
namespace {

using ::testing::HasSubstr;

constexpr char kListed[] = "11010519491231002X";

TEST(DaemonV4Test, ClientSpeaksVersion4WithoutAudit) {
  auto daemon = StartOrDie(SampleDir());
  ASSERT_NE(daemon, nullptr);
  auto client = daemon->Connect(absl::Seconds(5), /*hello=*/true);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->version(), 4);
  const wire::RequestContext context{"HG-ZJ-2026-1", "op-7", "公租房资格审查"};
  auto check = (*client)->Check({kListed}, wire::kAsOfNow, context);
  ASSERT_TRUE(check.ok()) << check.status();
  ASSERT_EQ(check->value.size(), 1u);
  EXPECT_EQ(check->value[0].status, wire::CheckStatus::kListed);
  EXPECT_EQ(check->value[0].receipt, "");
  wire::MeasuresRequest measures;
  measures.id = kListed;
  measures.context = context;
  auto m = (*client)->Measures(measures);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->value.measures.empty());
  EXPECT_EQ(m->receipt, "");
  auto info = (*client)->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->value.audit.state, wire::AuditState::kOff);
  const wire::FeedbackRequest feedback{
      "9f2c41d0-1-64", "op-7", {{4, wire::FeedbackOutcome::kApplied, ""}}};
  auto fb = (*client)->Feedback(feedback);
  EXPECT_TRUE(absl::IsUnavailable(fb.status())) << fb.status();
  EXPECT_TRUE(absl::StrContains(fb.status().message(), "AUDIT_UNAVAILABLE: no audit"))
      << fb.status();
  // Refused before sending: a reason missing, a context on an older connection.
  EXPECT_TRUE(absl::IsInvalidArgument(
      (*client)->Feedback({"r", "", {{4, wire::FeedbackOutcome::kCancelled, ""}}}).status()));
  EXPECT_TRUE((*client)->Ping().ok());  // the connection is still usable

  auto old = daemon->Connect(absl::Seconds(5));
  ASSERT_TRUE(old.ok()) << old.status();
  (*old)->set_max_version(3);
  ASSERT_TRUE((*old)->Hello("old").ok());
  EXPECT_EQ((*old)->version(), 3);
  EXPECT_TRUE(
      absl::IsFailedPrecondition((*old)->Check({kListed}, wire::kAsOfNow, context).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition((*old)->Feedback(feedback).status()));
  EXPECT_TRUE((*old)->Check({kListed}).ok());
}

// Error messages quote what the request sent escaped (FORMAT.md 6): well-formed UTF-8 that a
// strict decoder takes and a terminal shows without obeying an escape sequence in it.
TEST(DaemonV4Test, ErrorMessagesQuoteTheRequestEscaped) {
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  auto daemon = StartOrDie(SampleDir(), {"--state-dir", scratch.Path("state")});
  ASSERT_NE(daemon, nullptr);
  auto client = daemon->Connect(absl::Seconds(5), /*hello=*/true);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_EQ((*client)->version(), 4);
  // What the server said, checked to be text: escaping it again changes nothing.
  const auto said = [](const absl::Status& s) {
    EXPECT_TRUE(absl::IsInvalidArgument(s) || absl::IsNotFound(s)) << s;
    std::string message(s.message());
    EXPECT_EQ(TerminalSafe(message, Quoting::kKept), message);
    return message;
  };
  wire::MeasuresRequest m;
  m.id = kListed;
  m.agency = "\xff\xfe";
  EXPECT_THAT(said((*client)->Measures(m).status()), HasSubstr("unknown agency \"\\xff\\xfe\""));
  m.agency = "\x1b[31mred";
  EXPECT_THAT(said((*client)->Measures(m).status()), HasSubstr("unknown agency \"\\x1b[31mred\""));
  m.agency = "";
  m.scenario = "\xc3";
  EXPECT_THAT(said((*client)->Measures(m).status()), HasSubstr("unknown scenario \"\\xc3\""));
  const auto feedback = [&](const std::string& receipt) {
    return said(
        (*client)->Feedback({receipt, "", {{4, wire::FeedbackOutcome::kApplied, ""}}}).status());
  };
  EXPECT_THAT(feedback("\xff\xff\xff\xff\xff"),
              HasSubstr("receipt \"\\xff\\xff\\xff\\xff\\xff\" holds a character that is not "
                        "ASCII at byte 0"));
  // Another node's receipt (this one's node is random): sent there, NOT_FOUND.
  EXPECT_THAT(feedback("ad95ba86-\xff"),
              HasSubstr("NOT_FOUND: receipt ad95ba86-\\xff was issued by node ad95ba86"));
  EXPECT_THAT(feedback("\x1b]0;pwn\x07"),
              HasSubstr("receipt \"\\x1b]0;pwn\\x07\" is not of the form"));
  // An ID's reason never quotes it.
  auto check = (*client)->Check({"\x1b[2J\xff"});
  ASSERT_TRUE(check.ok()) << check.status();
  ASSERT_EQ(check->value.size(), 1u);
  EXPECT_EQ(check->value[0].status, wire::CheckStatus::kInvalid);
  const std::string reason(check->value[0].error);
  EXPECT_EQ(TerminalSafe(reason, Quoting::kKept), reason);
  EXPECT_TRUE((*client)->Ping().ok());  // none of them is fatal
}

TEST(DaemonV4Test, CliContextAndFeedback) {
  auto daemon = StartOrDie(SampleDir());
  ASSERT_NE(daemon, nullptr);
  const std::string shixin = BinDir() + "/shixin";
  ProcessResult r = RunProcess({shixin, "check", "--server", daemon->address(), "--matter", "HG-1",
                                "--operator", "op-7", "--json", kListed});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "\"listed\":true")) << r.out;
  // CHECK gives counts, not the cases and roles: no empty arrays that would read as none.
  EXPECT_TRUE(absl::StrContains(r.out, "\"case_count\":")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "\"roles\":[]")) << r.out;
  r = RunProcess({shixin, "measures", "--server", daemon->address(), "--purpose", "审查", kListed});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = RunProcess({shixin, "check", "--data", SampleDir(), "--matter", "HG-1", kListed});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "need --server")) << r.err;
  r = RunProcess({shixin, "info", "--server", daemon->address()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "audit: off")) << r.out;
  r = RunProcess({shixin, "feedback", "--server", daemon->address(), "--receipt", "9f2c41d0-1-64",
                  "--applied", "4", "--not-applied", "5=已履行"});
  EXPECT_EQ(r.exit_code, 5) << r.out;  // AUDIT_UNAVAILABLE: the server cannot answer it
  EXPECT_TRUE(absl::StrContains(r.err, "no audit: the server has no state_dir")) << r.err;
  r = RunProcess(
      {shixin, "feedback", "--server", daemon->address(), "--receipt", "r", "--cancel", "5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "needs a reason")) << r.err;
}

// A request over the daemon's max_payload (a context within its own limits) is refused before
// it is sent, by MEASURES pipelined as by CHECK: a usage error naming the limit, printed once,
// not the first ID INVALID (the server's FRAME_TOO_LARGE) and the rest "not connected" (exit 5).
TEST(DaemonV4Test, CliRefusesARequestOverMaxPayloadBeforeSending) {
  auto daemon = StartOrDie(SampleDir(), {"--max-payload", "1024"});
  ASSERT_NE(daemon, nullptr);
  const std::string shixin = BinDir() + "/shixin";
  const std::string m(64, 'M');
  const std::string purpose(1000, 'p');
  for (const std::string command : {"measures", "check"}) {
    ProcessResult r =
        RunProcess({shixin, command, "--server", daemon->address(), "--matter", m, "--operator", m,
                    "--purpose", purpose, "--json", "91350503MA2XK7R352", kListed});
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.out << r.err;
    EXPECT_EQ(r.out, "") << command;
    EXPECT_TRUE(absl::StrContains(r.err, "exceeds the server's limit of 1024 (HELLO max_payload)"))
        << command << ": " << r.err;
    EXPECT_FALSE(absl::StrContains(r.err, "not connected")) << r.err;
    EXPECT_FALSE(absl::StrContains(r.err, "stopped at")) << r.err;
  }
  // Within the limit the same run answers both IDs.
  ProcessResult r = RunProcess({shixin, "measures", "--server", daemon->address(), "--matter", m,
                                "--json", "91350503MA2XK7R352", kListed});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// IDs on standard input with --matter go in CHECKs that fit the daemon's max_payload, not
// just its max_batch (x22 #6): 100 IDs (~1.9 KB in one CHECK of the default max_batch 1000)
// against --max-payload 1024 are all answered (the run was refused whole, exit 2, nothing
// answered).
TEST(DaemonV4Test, CliCheckBatchesFitMaxPayload) {
  auto daemon = StartOrDie(SampleDir(), {"--max-payload", "1024"});
  ASSERT_NE(daemon, nullptr);
  ScratchDir scratch;
  const std::string ids_path = scratch.Path("ids");
  std::string ids;
  for (int i = 0; i < 100; ++i) absl::StrAppend(&ids, kListed, "\n");
  ASSERT_TRUE(WriteFileAtomically(ids_path, ids).ok());
  const ProcessResult r = RunProcess(
      {BinDir() + "/shixin", "check", "--server", daemon->address(), "--matter", "M1", "--json"},
      ids_path);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 100u) << r.err;
  for (const std::string& line : lines) {
    EXPECT_TRUE(absl::StrContains(line, "\"listed\":true")) << line;
  }
}

// More officers than MEASURES carries is the flags' fault, known before connecting: a usage
// error naming the limit (it was exit 5 with "stopped at argument 1", though nothing was sent).
TEST(DaemonV4Test, CliRefusesMoreOfficersThanMeasuresCarries) {
  auto daemon = StartOrDie(SampleDir());
  ASSERT_NE(daemon, nullptr);
  const std::string shixin = BinDir() + "/shixin";
  std::vector<std::string> argv = {shixin, "measures", "--server", daemon->address()};
  for (int i = 0; i < 17; ++i) {
    argv.insert(argv.end(), {"--officer", "director=230403197011230713"});
  }
  argv.emplace_back("91350503MA2XK7R352");
  ProcessResult r = RunProcess(argv);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "17 --officer flags exceed MEASURES' limit of 16")) << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "stopped at")) << r.err;
  argv.erase(argv.end() - 3, argv.end() - 1);  // 16 officers: answered
  r = RunProcess(argv);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace shixin::e2e
