#include "audit/node_id.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "audit/audit_log.h"
#include "audit/audit_test_util.h"

namespace shixin::audit {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first start writes the node and its receipt key together (mode 0600); later starts and
// the offline reading find the same key, so receipts stay valid across restarts.
TEST(NodeIdTest, TheKeyIsMadeWithTheNodeAndKept) {
  ScratchDir tmp;
  const std::string state = tmp.path() + "/state";
  absl::StatusOr<NodeIdentity> a = LoadOrCreateNode(state, [] { return int64_t{1234}; });
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(a->cipher.has_value());
  EXPECT_FALSE(a->key_added);
  EXPECT_EQ(a->cipher->keyed_since_micros(), 1234);
  struct stat st;
  ASSERT_EQ(stat((state + "/node_id").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THAT(Slurp(state + "/node_id"),
              ::testing::MatchesRegex("[0-9a-f]{8}\n[0-9a-f]{32} 1234\n"));
  absl::StatusOr<NodeIdentity> b = LoadOrCreateNode(state);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->node, a->node);
  EXPECT_EQ(b->cipher->key(), a->cipher->key());
  absl::StatusOr<NodeIdentity> read = ReadNodeIdentity(state);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->cipher->key(), a->cipher->key());
  const Receipt r{a->node, 1, 4242};
  absl::StatusOr<ParsedReceipt> parsed = ParseReceipt(a->cipher->Text(r), &*b->cipher);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->receipt, r);
}

// An earlier version's node_id (one line) over an audit gets a key added, dated then, and
// keeps its node: the receipts handed out before are of records written before that time.
TEST(NodeIdTest, AnEarlierVersionsNodeIdGetsAKey) {
  ScratchDir tmp;
  const std::string state = tmp.path() + "/state";
  ASSERT_EQ(::mkdir(state.c_str(), 0700), 0);
  std::ofstream(state + "/node_id") << "9f2c41d0\n";
  AuditLog::Options o;
  o.dir = state + "/audit";
  o.node = 0x9f2c41d0;
  ASSERT_TRUE(AuditLog::Open(o, nullptr).ok());  // segments of the node
  absl::StatusOr<NodeIdentity> offline = ReadNodeIdentity(state);
  ASSERT_TRUE(offline.ok()) << offline.status();
  EXPECT_FALSE(offline->cipher.has_value());
  absl::StatusOr<NodeIdentity> n = LoadOrCreateNode(state, [] { return int64_t{5000}; });
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->node, 0x9f2c41d0u);
  EXPECT_TRUE(n->key_added);
  ASSERT_TRUE(n->cipher.has_value());
  EXPECT_EQ(n->cipher->keyed_since_micros(), 5000);
  EXPECT_THAT(Slurp(state + "/node_id"), ::testing::MatchesRegex("9f2c41d0\n[0-9a-f]{32} 5000\n"));
  absl::StatusOr<NodeIdentity> again = LoadOrCreateNode(state);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->key_added);
  EXPECT_EQ(again->cipher->key(), n->cipher->key());
}

// A damaged key line is refused, naming the file and line, and never replaced by a new key:
// every receipt the agencies hold would stop resolving.
TEST(NodeIdTest, ADamagedKeyIsRefusedNotReplaced) {
  for (const char* line : {"0123456789abcdef0123456789abcde 5\n",      // 31 digits
                           "0123456789ABCDEF0123456789abcdef 5\n",     // upper case
                           "0123456789abcdef0123456789abcdef\n",       // no time
                           "0123456789abcdef0123456789abcdef 5",       // no newline
                           "0123456789abcdef0123456789abcdef -5\n",    // negative
                           "0123456789abcdef0123456789abcdef 5\nx\n",  // more
                           "\n"}) {
    ScratchDir tmp;
    const std::string state = tmp.path() + "/state";
    ASSERT_EQ(::mkdir(state.c_str(), 0700), 0);
    const std::string text = std::string("9f2c41d0\n") + line;
    std::ofstream(state + "/node_id") << text;
    absl::StatusOr<NodeIdentity> n = LoadOrCreateNode(state);
    EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument) << line;
    EXPECT_THAT(n.status().message(), HasSubstr(state + "/node_id: line 2: expected the receipt"));
    EXPECT_EQ(Slurp(state + "/node_id"), text);
    EXPECT_EQ(ReadNodeIdentity(state).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(NodeIdTest, StateDirOfAudit) {
  EXPECT_EQ(StateDirOfAudit("/var/lib/shixind/audit"), "/var/lib/shixind");
  EXPECT_EQ(StateDirOfAudit("/var/lib/shixind/audit/"), "/var/lib/shixind");
  EXPECT_EQ(StateDirOfAudit("state/audit"), "state");
  EXPECT_EQ(StateDirOfAudit("audit"), ".");
  EXPECT_EQ(StateDirOfAudit("/audit"), "/");
}

// The tools read a keyed receipt with the key beside the audit directory; without it they say
// which file they could not read. The position form needs no key.
TEST(NodeIdTest, ToolsReadTheKeyBesideTheAudit) {
  ScratchDir tmp;
  const std::string state = tmp.path() + "/state";
  absl::StatusOr<NodeIdentity> n = LoadOrCreateNode(state);
  ASSERT_TRUE(n.ok()) << n.status();
  const Receipt r{n->node, 2, 777};
  const std::string keyed = n->cipher->Text(r);
  absl::StatusOr<ParsedReceipt> parsed = ParseAuditReceipt(state + "/audit", keyed);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->keyed);
  EXPECT_EQ(parsed->receipt, r);
  ASSERT_EQ(::unlink((state + "/node_id").c_str()), 0);
  parsed = ParseAuditReceipt(state + "/audit", keyed);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(parsed.status().message(), HasSubstr(state + "/node_id"));
  parsed = ParseAuditReceipt(state + "/audit", r.ToString());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->keyed);
  EXPECT_EQ(parsed->receipt, r);
}

}  // namespace
}  // namespace shixin::audit
