#include "daemon/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocol/wire.h"

namespace shixin {
namespace {

using ::testing::HasSubstr;

using testing::SourceDir;

// Returns the message of `s`, which must be an error.
std::string Error(const absl::Status& s) {
  EXPECT_FALSE(s.ok());
  return std::string(s.message());
}

TEST(ConfigTest, Defaults) {
  const Config c;
  EXPECT_EQ(c.listen, "127.0.0.1:7411");
  EXPECT_EQ(c.max_connections, 1024u);
  EXPECT_EQ(c.max_payload, 1u << 20);
  EXPECT_EQ(c.max_batch, 1000u);
  EXPECT_EQ(c.max_in_flight, 128u);
  EXPECT_EQ(c.idle_timeout_seconds, 60u);
  EXPECT_EQ(c.max_age_seconds, 0u);
  EXPECT_FALSE(c.refuse_stale);
  EXPECT_FALSE(c.core_dumps);  // not dumpable (daemon/file_modes.h)
  EXPECT_TRUE(c.admin_loopback_only);
  EXPECT_EQ(c.max_shrink, 0.05);
  EXPECT_EQ(c.background_nice, 10u);
}

TEST(ConfigTest, ParsesEveryKey) {
  Config c;
  ASSERT_TRUE(ParseConfig(R"(
listen = "[::1]:0"
threads = 3
data_dir = "/srv/list"
catalog = "/etc/catalog.json"
max_errors = 10
max_connections = 50
max_payload = 65536
max_batch = 200
max_in_flight = 16
idle_timeout_seconds = 5
max_age_seconds = 90000
refuse_stale = true
admin_loopback_only = false
verbose = true
core_dumps = true
max_shrink = 0.25
background_nice = 0
)",
                          "test.toml", &c)
                  .ok());
  EXPECT_EQ(c.listen, "[::1]:0");
  EXPECT_EQ(c.threads, 3u);
  EXPECT_EQ(c.data_dir, "/srv/list");
  EXPECT_EQ(c.catalog, "/etc/catalog.json");
  EXPECT_EQ(c.max_errors, 10u);
  EXPECT_EQ(c.max_connections, 50u);
  EXPECT_EQ(c.max_payload, 65536u);
  EXPECT_EQ(c.max_batch, 200u);
  EXPECT_EQ(c.max_in_flight, 16u);
  EXPECT_EQ(c.idle_timeout_seconds, 5u);
  EXPECT_EQ(c.max_age_seconds, 90000u);
  EXPECT_TRUE(c.refuse_stale);
  EXPECT_FALSE(c.admin_loopback_only);
  EXPECT_TRUE(c.verbose);
  EXPECT_TRUE(c.core_dumps);
  EXPECT_EQ(c.max_shrink, 0.25);
  EXPECT_EQ(c.background_nice, 0u);
}

TEST(ConfigTest, MaxShrinkIsAShareFromZeroToOne) {
  Config c;
  ASSERT_TRUE(ParseConfig("max_shrink = 1\n", "x.toml", &c).ok());  // an integer is fine
  EXPECT_EQ(c.max_shrink, 1.0);
  ASSERT_TRUE(ParseConfig("max_shrink = 0.0\n", "x.toml", &c).ok());
  EXPECT_EQ(c.max_shrink, 0.0);
  EXPECT_EQ(Error(ParseConfig("max_shrink = 1.5\n", "x.toml", &c)),
            "x.toml:1: max_shrink = 1.5 is out of range (0.0..1.0)");
  EXPECT_EQ(Error(ParseConfig("max_shrink = -0.1\n", "x.toml", &c)),
            "x.toml:1: max_shrink = -0.1 is out of range (0.0..1.0)");
  EXPECT_THAT(Error(ParseConfig("max_shrink = nan\n", "x.toml", &c)),
              HasSubstr("max_shrink = nan is out of range"));
  EXPECT_EQ(Error(ParseConfig("max_shrink = \"5%\"\n", "x.toml", &c)),
            "x.toml:1: max_shrink: expected a number, got a string");
  ASSERT_TRUE(ApplyFlags({"--max-shrink", "0.2"}, &c).ok());
  EXPECT_EQ(c.max_shrink, 0.2);
  ASSERT_TRUE(ApplyFlags({"--max-shrink=1.0"}, &c).ok());
  EXPECT_EQ(c.max_shrink, 1.0);
  EXPECT_EQ(Error(ApplyFlags({"--max-shrink", "five"}, &c).status()),
            "--max-shrink five: expected a number");
  EXPECT_EQ(Error(ApplyFlags({"--max-shrink", "2"}, &c).status()),
            "max_shrink = 2 is out of range (0.0..1.0)");
  c.data_dir = SourceDir() + "/data/sample";
  c.max_shrink = -1;
  EXPECT_EQ(Error(Validate(c)), "max_shrink = -1 is out of range (0.0..1.0)");
}

// idle_timeout_seconds = 0 (never close idle connections) is refused together with a limit of
// 0 (none) that idle clients could then exhaust for ever. The limits with that meaning: those
// known to this build of the list below (a key this build does not know is skipped).
TEST(ConfigTest, IdleTimeoutZeroIsRefusedWithAnUnboundedLimit) {
  Config c;
  c.data_dir = SourceDir() + "/data/sample";
  c.idle_timeout_seconds = 0;
  EXPECT_TRUE(Validate(c).ok()) << Validate(c);  // every other limit bounded: fine
  int checked = 0;
  for (const std::string key : {"max_connections_per_ip"}) {
    Config d = c;
    std::string flag = "--" + key;
    for (char& ch : flag) ch = ch == '_' ? '-' : ch;
    if (!ApplyFlags({flag, "0"}, &d).ok()) continue;  // not in this build
    ++checked;
    EXPECT_EQ(Error(Validate(d)),
              "idle_timeout_seconds = 0 (idle connections are never closed) together with " + key +
                  " = 0 (no limit) lets clients hold resources for ever: set one of them");
    d.idle_timeout_seconds = 60;
    EXPECT_TRUE(Validate(d).ok()) << key << ": " << Validate(d);
    Config toml;
    ASSERT_TRUE(ParseConfig("idle_timeout_seconds = 0\n" + key + " = 0\n", "x.toml", &toml).ok());
    toml.data_dir = c.data_dir;
    EXPECT_THAT(Error(Validate(toml)), HasSubstr(key + " = 0 (no limit)"));
  }
  if (checked == 0) GTEST_SKIP() << "no limit of this build means \"none\" at 0";
}

// A max_batch whose CHECK could not be answered within the protocol's 16 MiB is refused at
// start: 65535 was accepted, and a CHECK of 60,000 IDs of a long name was answered INTERNAL.
TEST(ConfigTest, MaxBatchIsOneWhoseEveryCheckCanBeAnswered) {
  EXPECT_EQ(kMaxBatchLimit, 49490u);
  EXPECT_LE(uint64_t{kMaxBatchLimit} * kMaxCheckAnswerBytes + 2, wire::kMaxPayloadLimit);
  Config c;
  EXPECT_EQ(Error(ParseConfig("max_batch = 65535\n", "x.toml", &c)),
            "x.toml:1: max_batch = 65535 is out of range (1..49490)");
  EXPECT_EQ(Error(ParseConfig("max_batch = 49491\n", "x.toml", &c)),
            "x.toml:1: max_batch = 49491 is out of range (1..49490)");
  ASSERT_TRUE(ParseConfig("max_batch = 49490\n", "x.toml", &c).ok());
  EXPECT_EQ(c.max_batch, 49490u);
}

TEST(ConfigTest, ClearErrorsNameFileLineAndKey) {
  Config c;
  EXPECT_EQ(Error(ParseConfig("listen = \"a:1\"\nmax_batchs = 3\n", "x.toml", &c)),
            "x.toml:2: unknown key \"max_batchs\"");
  EXPECT_EQ(Error(ParseConfig("max_batch = \"many\"\n", "x.toml", &c)),
            "x.toml:1: max_batch: expected a non-negative integer, got a string");
  EXPECT_EQ(Error(ParseConfig("refuse_stale = 1\n", "x.toml", &c)),
            "x.toml:1: refuse_stale: expected a boolean, got an integer");
  EXPECT_EQ(Error(ParseConfig("max_batch = 0\n", "x.toml", &c)),
            "x.toml:1: max_batch = 0 is out of range (1..49490)");
  EXPECT_EQ(Error(ParseConfig("max_connections = -1\n", "x.toml", &c)),
            "x.toml:1: max_connections = -1 is out of range (1..1000000)");
  EXPECT_EQ(Error(ParseConfig("drain_seconds = 0\n", "x.toml", &c)),
            "x.toml:1: drain_seconds = 0 is out of range (1..300)");
  EXPECT_THAT(Error(ParseConfig("max_payload = 99999999999\n", "x.toml", &c)),
              HasSubstr("max_payload = 99999999999 is out of range"));
  EXPECT_THAT(Error(ParseConfig("listen = \n", "x.toml", &c)), HasSubstr("x.toml:1:"));
  EXPECT_THAT(Error(ParseConfig("[server]\nlisten = \"a:1\"\n", "x.toml", &c)),
              HasSubstr("unknown key \"server\""));
}

TEST(ConfigTest, MissingFile) {
  Config c;
  const absl::Status s = LoadConfigFile("/nonexistent/shixind.toml", &c);
  EXPECT_TRUE(absl::IsNotFound(s));
  EXPECT_THAT(s.message(), HasSubstr("/nonexistent/shixind.toml"));
}

// A path of the wrong kind is named for what it is, not reported missing; a relative path not
// found names the working directory it was looked up in.
TEST(ConfigTest, PathsOfTheWrongKindSayWhatTheyAre) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / absl::StrCat("config_paths.", getpid());
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(std::filesystem::create_directories(dir));
  const std::string fifo = (dir / "fifo.snap").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string sample = SourceDir() + "/data/sample";
  const std::string file = sample + "/debtors.ndjson";
  const std::string d = dir.string();
  const auto validate = [&](auto set) {
    Config c;
    c.data_dir = sample;
    set(c);
    return Error(Validate(c));
  };
  EXPECT_EQ(validate([&](Config& c) {
              c.data_dir.clear();
              c.snapshot = fifo;
            }),
            absl::StrCat("snapshot \"", fifo, "\": not a regular file (a FIFO)"));
  EXPECT_EQ(validate([&](Config& c) {
              c.data_dir.clear();
              c.snapshot = d;
            }),
            absl::StrCat("snapshot \"", d, "\": is a directory"));
  EXPECT_EQ(validate([&](Config& c) { c.data_dir = file; }),
            absl::StrCat("data_dir \"", file, "\": is not a directory (a regular file)"));
  EXPECT_EQ(validate([&](Config& c) { c.deltas_dir = fifo; }),
            absl::StrCat("deltas_dir \"", fifo, "\": is not a directory (a FIFO)"));
  EXPECT_EQ(validate([&](Config& c) { c.calendar_dir = file; }),
            absl::StrCat("calendar_dir \"", file, "\": is not a directory (a regular file)"));
  EXPECT_EQ(validate([&](Config& c) { c.catalog = d; }),
            absl::StrCat("catalog \"", d, "\": is a directory"));
  EXPECT_EQ(validate([&](Config& c) { c.callers_file = d; }),
            absl::StrCat("callers_file \"", d, "\": is a directory"));
  EXPECT_EQ(validate([&](Config& c) { c.state_dir = fifo; }),
            absl::StrCat("state_dir \"", fifo, "\": is not a directory (a FIFO)"));
  EXPECT_EQ(validate([&](Config& c) {
              c.tls_listen = "127.0.0.1:0";
              c.tls_cert = fifo;
              c.tls_key = fifo;
            }),
            absl::StrCat("tls_cert \"", fifo, "\": not a regular file (a FIFO)"));
  const std::string cwd = std::filesystem::current_path().string();
  EXPECT_EQ(validate([&](Config& c) {
              c.data_dir.clear();
              c.snapshot = "no-such-list.snap";
            }),
            absl::StrCat("snapshot \"no-such-list.snap\": no such file (relative to the working "
                         "directory ",
                         cwd, ")"));
  EXPECT_EQ(validate([&](Config& c) {
              c.snapshot.clear();
              c.data_dir = "/nonexistent/list";
            }),
            "data_dir \"/nonexistent/list\": no such directory");

  Config c;
  absl::Status s = LoadConfigFile(d, &c);
  EXPECT_TRUE(absl::IsNotFound(s));
  EXPECT_EQ(s.message(), absl::StrCat("config file ", d, ": is a directory"));
  // A FIFO is refused at once, not waited on.
  s = LoadConfigFile(fifo, &c);
  EXPECT_EQ(s.message(), absl::StrCat("config file ", fifo, ": not a regular file (a FIFO)"));
  s = LoadConfigFile("no-such.toml", &c);
  EXPECT_EQ(s.message(), absl::StrCat("config file no-such.toml: no such file (relative to the "
                                      "working directory ",
                                      cwd, ")"));
  std::filesystem::remove_all(dir);
}

TEST(ConfigTest, TheShippedExampleLoads) {
  Config c;
  const absl::Status s = LoadConfigFile(SourceDir() + "/systemd/shixind.toml", &c);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(c.listen, "127.0.0.1:7411");
  EXPECT_EQ(c.data_dir, "/var/lib/shixin");
  EXPECT_EQ(c.state_dir, "/var/lib/shixind");  // audited as installed: the unit's StateDirectory
}

TEST(ConfigTest, FlagsOverride) {
  Config c;
  c.max_batch = 7;
  absl::StatusOr<CommandLine> cl =
      ApplyFlags({"--data", "/d", "--listen=[::1]:9", "--max-batch", "20", "--refuse-stale",
                  "--admin-loopback-only=false", "--config", "/etc/x.toml"},
                 &c);
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config_file, "/etc/x.toml");
  EXPECT_EQ(c.data_dir, "/d");
  EXPECT_EQ(c.listen, "[::1]:9");
  EXPECT_EQ(c.max_batch, 20u);
  EXPECT_TRUE(c.refuse_stale);
  EXPECT_FALSE(c.admin_loopback_only);
  ASSERT_TRUE(ApplyFlags({"--data-dir=/e", "--idle-timeout-seconds", "0"}, &c).ok());
  EXPECT_EQ(c.data_dir, "/e");
  EXPECT_EQ(c.idle_timeout_seconds, 0u);
  EXPECT_TRUE(ApplyFlags({"--help"}, &c)->help);
}

TEST(ConfigTest, FlagErrors) {
  Config c;
  EXPECT_EQ(Error(ApplyFlags({"--max-batchs", "3"}, &c).status()), "unknown flag --max-batchs");
  EXPECT_EQ(Error(ApplyFlags({"--data"}, &c).status()), "--data needs a value");
  EXPECT_EQ(Error(ApplyFlags({"--threads", "two"}, &c).status()),
            "--threads two: expected a non-negative integer");
  EXPECT_EQ(Error(ApplyFlags({"--max-in-flight", "0"}, &c).status()),
            "max_in_flight = 0 is out of range (1..65535)");
  EXPECT_EQ(Error(ApplyFlags({"--drain-seconds", "301"}, &c).status()),
            "drain_seconds = 301 is out of range (1..300)");
  EXPECT_EQ(Error(ApplyFlags({"--refuse-stale=maybe"}, &c).status()),
            "--refuse-stale=maybe: expected true or false");
  EXPECT_EQ(Error(ApplyFlags({"data"}, &c).status()), "unexpected argument \"data\"");
}

TEST(ConfigTest, ListenAddresses) {
  absl::StatusOr<ListenAddress> a = ParseListenAddress("127.0.0.1:7411");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 7411);
  a = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 0);
  a = ParseListenAddress("localhost:80");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "localhost");
  for (const char* bad :
       {"127.0.0.1", "::1:80", "[::1:80", ":80", "h:", "h:65536", "h:-1", "h:8x"}) {
    EXPECT_FALSE(ParseListenAddress(bad).ok()) << bad;
  }
}

TEST(ConfigTest, Validate) {
  Config c;
  EXPECT_THAT(Error(Validate(c)), HasSubstr("data_dir is not set"));
  c.data_dir = "/nonexistent/list";
  EXPECT_EQ(Error(Validate(c)), "data_dir \"/nonexistent/list\": no such directory");
  c.data_dir = SourceDir() + "/data/sample";
  EXPECT_TRUE(Validate(c).ok()) << Validate(c);
  c.catalog = "/nonexistent/catalog.json";
  EXPECT_THAT(Error(Validate(c)), HasSubstr("catalog \"/nonexistent/catalog.json\""));
  c.catalog = "";
  c.listen = "nowhere";
  EXPECT_THAT(Error(Validate(c)), HasSubstr("listen \"nowhere\""));
  c.listen = "127.0.0.1:0";
  c.max_payload = 16;
  EXPECT_EQ(Error(Validate(c)), "max_payload = 16 is out of range (1024..16777216)");
}

TEST(ConfigTest, SnapshotIsExclusiveWithDataDir) {
  Config c;
  ASSERT_TRUE(ParseConfig("snapshot = \"/srv/list.snap\"\n", "t.toml", &c).ok());
  EXPECT_EQ(c.snapshot, "/srv/list.snap");
  EXPECT_EQ(Error(Validate(c)), "snapshot \"/srv/list.snap\": no such file");
  c.snapshot = SourceDir() + "/data/sample/debtors.ndjson";  // any readable file
  EXPECT_TRUE(Validate(c).ok()) << Validate(c);
  c.data_dir = SourceDir() + "/data/sample";
  EXPECT_THAT(Error(Validate(c)), HasSubstr("exclusive"));
  Config f;
  ASSERT_TRUE(ApplyFlags({"--snapshot", "/x.snap"}, &f).ok());
  EXPECT_EQ(f.snapshot, "/x.snap");
}

// Two listeners on one address would fail only at the bind: the check names both keys.
TEST(ConfigTest, ListenersOnTheSameAddressAreRefused) {
  Config c;
  c.data_dir = SourceDir() + "/data/sample";
  c.listen = "127.0.0.1:17891";
  c.http_listen = "127.0.0.1:17891";
  EXPECT_EQ(Error(Validate(c)),
            "listen and http_listen are the same address \"127.0.0.1:17891\": give each its own "
            "port");
  c.http_listen = "127.0.0.1:17892";
  EXPECT_TRUE(Validate(c).ok()) << Validate(c);
  c.listen = "127.0.0.1:0";  // each picks a free port
  c.http_listen = "127.0.0.1:0";
  EXPECT_TRUE(Validate(c).ok()) << Validate(c);
}

// Without callers every listener must be loopback; with a callers file any address may serve.
TEST(ConfigTest, NonLoopbackListenersNeedACallersFile) {
  Config c;
  c.data_dir = SourceDir() + "/data/sample";
  for (const char* listen : {"127.0.0.1:0", "[::1]:0", "localhost:0"}) {
    c.listen = listen;
    EXPECT_TRUE(Validate(c).ok()) << listen << ": " << Validate(c);
  }
  for (const char* listen : {"0.0.0.0:7411", "[::]:7411", "192.0.2.1:7411"}) {
    c.listen = listen;
    const std::string error = Error(Validate(c));
    EXPECT_THAT(error, HasSubstr(absl::StrCat("listen \"", listen, "\"")));
    EXPECT_THAT(error, HasSubstr("loopback"));
    EXPECT_THAT(error, HasSubstr("callers_file"));
  }
  c.callers_file = "/nonexistent/callers.toml";
  EXPECT_THAT(Error(Validate(c)), HasSubstr("callers_file \"/nonexistent/callers.toml\""));
  char path[] = "/tmp/config_test_callers.XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  c.callers_file = path;
  for (const char* listen : {"0.0.0.0:7411", "[::]:7411", "192.0.2.1:7411"}) {
    c.listen = listen;
    EXPECT_TRUE(Validate(c).ok()) << listen << ": " << Validate(c);
  }
  std::remove(path);
}

TEST(ConfigTest, ValidatesTheAuditKeys) {
  Config c;
  c.data_dir = SourceDir() + "/data/sample";
  c.state_dir = ::testing::TempDir() + "/config_test.no-state";  // created at start
  EXPECT_TRUE(Validate(c).ok()) << Validate(c);
  c.state_dir = "/nonexistent/state";  // but not with its parent (x27 #5)
  EXPECT_EQ(Error(Validate(c)),
            "state_dir \"/nonexistent/state\": cannot be created: its parent /nonexistent: no "
            "such directory");
  c.state_dir = SourceDir() + "/data/sample/debtors.ndjson";
  EXPECT_EQ(Error(Validate(c)),
            absl::StrCat("state_dir \"", c.state_dir, "\": is not a directory (a regular file)"));
  c.state_dir = "";
  c.calendar_dir = "/nonexistent/calendar";
  EXPECT_EQ(Error(Validate(c)), "calendar_dir \"/nonexistent/calendar\": no such directory");
  c.calendar_dir = SourceDir() + "/data/calendar";
  EXPECT_TRUE(Validate(c).ok()) << Validate(c);
  c.audit_fsync_ms = 0;
  EXPECT_THAT(Error(Validate(c)), HasSubstr("audit_fsync_ms = 0 is out of range"));
  c.audit_fsync_ms = 10;
  c.background_nice = 20;  // Linux's nice values end at 19
  EXPECT_THAT(Error(Validate(c)), HasSubstr("background_nice = 20 is out of range (0..19)"));
  c.background_nice = 19;
  EXPECT_TRUE(Validate(c).ok()) << Validate(c);
  Config f;
  EXPECT_THAT(Error(ParseConfig("audit_required = \"yes\"\n", "t.toml", &f)),
              HasSubstr("audit_required"));
}

}  // namespace
}  // namespace shixin
