#include "callers/token.h"

#include <gtest/gtest.h>

#include <set>

#include "callers/caller.h"

namespace shixin {
namespace {

TEST(TokenTest, NewTokenShape) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<std::string> token = NewToken();
    ASSERT_TRUE(token.ok()) << token.status();
    ASSERT_EQ(token->size(), 4u + 43u) << *token;
    EXPECT_EQ(token->substr(0, 4), "shx_");
    for (char c : token->substr(4)) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << *token;
    }
    EXPECT_TRUE(seen.insert(*token).second) << "repeated token";
  }
}

TEST(TokenTest, HashIsSha256Hex) {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(HashToken("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(IsSha256Text(HashToken(*NewToken())));
}

TEST(TokenTest, MatchesOnlyItsHash) {
  const std::string token = *NewToken();
  const std::string hash = HashToken(token);
  EXPECT_TRUE(TokenMatches(token, hash));
  EXPECT_FALSE(TokenMatches(token + "a", hash));
  EXPECT_FALSE(TokenMatches("", hash));
  EXPECT_FALSE(TokenMatches(*NewToken(), hash));
  // One digit off, at either end.
  std::string off = hash;
  off.back() = off.back() == '0' ? '1' : '0';
  EXPECT_FALSE(TokenMatches(token, off));
  off = hash;
  off[7] = off[7] == '0' ? '1' : '0';
  EXPECT_FALSE(TokenMatches(token, off));
}

TEST(TokenTest, MalformedStoredHashNeverMatches) {
  const std::string token = *NewToken();
  const std::string hash = HashToken(token);
  std::string upper = hash;
  for (size_t i = 7; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  const std::string kMalformed[] = {
      "",
      hash.substr(7),            // no prefix
      "sha1:" + hash.substr(7),  // another algorithm
      hash.substr(0, hash.size() - 1),
      hash + "0",
      upper,
      token,  // the token itself stored by mistake
  };
  for (const std::string& stored : kMalformed) {
    EXPECT_FALSE(TokenMatches(token, stored)) << stored;
    EXPECT_FALSE(TokenMatches(stored, stored)) << stored;
  }
}

}  // namespace
}  // namespace shixin
