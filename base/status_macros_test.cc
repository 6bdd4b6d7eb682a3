#include "base/status_macros.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace shixin {
namespace {

absl::Status Fail(const char* message) { return absl::InvalidArgumentError(message); }

absl::StatusOr<int> Number(int n) {
  if (n < 0) return absl::OutOfRangeError("negative");
  return n;
}

absl::StatusOr<std::unique_ptr<int>> Box(int n) {
  if (n < 0) return absl::OutOfRangeError("negative");
  return std::make_unique<int>(n);
}

// Runs `status` through SHIXIN_RETURN_IF_ERROR; records whether execution went past it.
absl::Status ReturnIfError(const absl::Status& status, bool* continued) {
  SHIXIN_RETURN_IF_ERROR(status);
  *continued = true;
  return absl::OkStatus();
}

TEST(StatusMacrosTest, ReturnIfErrorReturnsTheError) {
  bool continued = false;
  absl::Status s = ReturnIfError(Fail("bad"), &continued);
  EXPECT_EQ(s, absl::InvalidArgumentError("bad"));
  EXPECT_FALSE(continued);
}

TEST(StatusMacrosTest, ReturnIfErrorContinuesOnOk) {
  bool continued = false;
  EXPECT_TRUE(ReturnIfError(absl::OkStatus(), &continued).ok());
  EXPECT_TRUE(continued);
}

TEST(StatusMacrosTest, ReturnIfErrorEvaluatesOnce) {
  int calls = 0;
  auto counted = [&] {
    ++calls;
    return absl::OkStatus();
  };
  auto f = [&]() -> absl::Status {
    SHIXIN_RETURN_IF_ERROR(counted());
    return absl::OkStatus();
  };
  EXPECT_TRUE(f().ok());
  EXPECT_EQ(calls, 1);
}

TEST(StatusMacrosTest, ReturnIfErrorIsOneStatement) {
  auto f = [](bool check) -> absl::Status {
    // Unbraced on purpose: the macro must not capture the else.
    if (check)  // NOLINT(google-readability-braces-around-statements)
      SHIXIN_RETURN_IF_ERROR(Fail("checked"));
    else  // NOLINT(google-readability-braces-around-statements)
      return Fail("not checked");
    return absl::OkStatus();
  };
  EXPECT_EQ(f(true).message(), "checked");
  EXPECT_EQ(f(false).message(), "not checked");
}

TEST(StatusMacrosTest, ReturnIfErrorInAStatusOrFunction) {
  auto f = [](const absl::Status& s) -> absl::StatusOr<int> {
    SHIXIN_RETURN_IF_ERROR(s);
    return 7;
  };
  EXPECT_EQ(f(Fail("bad")).status(), absl::InvalidArgumentError("bad"));
  EXPECT_EQ(*f(absl::OkStatus()), 7);
}

TEST(StatusMacrosTest, AssignOrReturnDeclares) {
  auto f = [](int a, int b) -> absl::StatusOr<int> {
    // Two in one scope: each has its own temporary.
    SHIXIN_ASSIGN_OR_RETURN(int x, Number(a));
    SHIXIN_ASSIGN_OR_RETURN(const int y, Number(b));
    return x + y;
  };
  EXPECT_EQ(*f(2, 3), 5);
  EXPECT_EQ(f(-1, 3).status(), absl::OutOfRangeError("negative"));
  EXPECT_EQ(f(2, -1).status(), absl::OutOfRangeError("negative"));
}

TEST(StatusMacrosTest, AssignOrReturnAssignsAnExistingVariable) {
  int x = 10;
  auto f = [&](int n) -> absl::Status {
    SHIXIN_ASSIGN_OR_RETURN(x, Number(n));
    return absl::OkStatus();
  };
  EXPECT_FALSE(f(-1).ok());
  EXPECT_EQ(x, 10);  // untouched on error
  EXPECT_TRUE(f(4).ok());
  EXPECT_EQ(x, 4);
}

TEST(StatusMacrosTest, AssignOrReturnMovesMoveOnlyValues) {
  auto f = [](int n) -> absl::StatusOr<int> {
    SHIXIN_ASSIGN_OR_RETURN(std::unique_ptr<int> p, Box(n));
    SHIXIN_ASSIGN_OR_RETURN(auto q, Box(n + 1));
    return *p + *q;
  };
  EXPECT_EQ(*f(1), 3);
  EXPECT_EQ(f(-5).status(), absl::OutOfRangeError("negative"));
}

TEST(StatusMacrosTest, AssignOrReturnEvaluatesOnce) {
  int calls = 0;
  auto counted = [&]() -> absl::StatusOr<std::string> {
    ++calls;
    return std::string("text");
  };
  auto f = [&]() -> absl::StatusOr<size_t> {
    SHIXIN_ASSIGN_OR_RETURN(std::string s, counted());
    return s.size();
  };
  EXPECT_EQ(*f(), 4u);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace shixin
