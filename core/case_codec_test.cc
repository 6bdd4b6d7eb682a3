#include "core/case_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

namespace shixin {
namespace {

CaseView SomeCase(const std::string& duty) {
  CaseView c;
  c.case_code = "A";
  c.area = "黑";
  c.reg_date = 20180409;
  c.publish_date = 20180820;
  c.duty = duty;
  c.business_entity = "zz";
  c.age = 58;
  c.sex = Sex::kFemale;
  c.term_end = 20200820;
  c.start = 0x0102030405060708;
  c.ended_at = 0x1112131415161718;
  c.end = EndReason::kRevoked;
  return c;
}

// The bytes core/SNAPSHOT_FORMAT.md specifies for SomeCase.
TEST(CaseCodecTest, EncodesAsTheFormatSays) {
  const std::string duty(200, 'x');
  std::string out;
  EncodeCase(SomeCase(duty), &out);
  const std::string want = std::string("\xb9\xed\x33\x01\x54\xef\x33\x01\x3a\x02", 10) +  // fixed
                           std::string("\x74\x3d\x34\x01", 4) +                  // term_end
                           std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8) +  // start
                           std::string("\x18\x17\x16\x15\x14\x13\x12\x11", 8) +  // ended_at
                           std::string("\x0a", 1) +                              // end
                           std::string(
                               "\x01"
                               "A"
                               "\x00"
                               "\x03"
                               "黑"
                               "\x00\x00",
                               9) +  // 1-5
                           "\xc8\x01" +
                           duty +                                     // duty
                           std::string("\x00\x00\x00\x00\x02zz", 7);  // 7-11
  EXPECT_EQ(out, want);
  EXPECT_EQ(CaseFixedBytes(), 31u);
}

TEST(CaseCodecTest, RoundTrips) {
  const std::string duty(200, 'x');
  std::string out = "prefix";
  EncodeCase(SomeCase(duty), &out);
  EncodeCase(CaseView(), &out);
  size_t first = 0;
  size_t second = 0;
  const char* p = out.data() + 6;
  EXPECT_EQ(DecodeCase(p, out.data() + out.size(), &first), SomeCase(duty));
  EXPECT_EQ(DecodeCase(p + first, out.data() + out.size(), &second), CaseView());
  EXPECT_EQ(p + first + second, out.data() + out.size());
}

TEST(CaseCodecTest, ACutRecordDecodesToWhatItHas) {
  std::string out;
  EncodeCase(SomeCase("duty"), &out);
  size_t size = 0;
  EXPECT_EQ(DecodeCase(out.data(), out.data() + 30, &size), CaseView());
  EXPECT_EQ(size, 30u);
  // Cut after the first byte of area's three; the length is read before what is left.
  CaseView cut = DecodeCase(out.data(), out.data() + 36, &size);
  EXPECT_EQ(size, 36u);
  EXPECT_EQ(cut.case_code, "A");
  EXPECT_EQ(cut.area, std::string_view("黑", 1));
  EXPECT_EQ(cut.duty, "");
  EXPECT_EQ(cut.age, 58);
}

// The head is the fixed-width fields and the case code, as DecodeCase reads them; the end is
// set in place to what encoding the changed case gives.
TEST(CaseCodecTest, HeadAndEndInPlace) {
  const std::string duty(200, 'x');
  const CaseView c = SomeCase(duty);
  std::string out;
  EncodeCase(c, &out);
  CaseView head = c;
  ForEachCaseField(
      [](const CaseField& field, auto& m) {
        if constexpr (kIsCaseText<std::remove_cvref_t<decltype(m)>>) {
          if (field.name != "case_code") m = {};
        }
      },
      head);
  EXPECT_EQ(DecodeCaseHead(out.data(), out.data() + out.size()), head);
  EXPECT_EQ(DecodeCaseHead(out.data(), out.data() + 30), CaseView());  // cut in the fixed part

  CaseView ended = c;
  ended.ended_at = 1781053200;
  ended.end = EndReason::kPerformed;
  std::string want;
  EncodeCase(ended, &want);
  SetEncodedCaseEnd(out.data(), ended.ended_at, ended.end);
  EXPECT_EQ(out, want);
}

TEST(CaseRecordTest, ConvertsBetweenStringTypes) {
  const std::string duty = "给付";
  const CaseInfo owned = ConvertCase<CaseInfo>(SomeCase(duty));
  EXPECT_EQ(owned.duty, duty);
  EXPECT_EQ(owned.sex, Sex::kFemale);
  EXPECT_EQ(ConvertCase<CaseView>(owned), SomeCase(duty));
}

// Converts to any field type: T{AnyField{}...} tells how many members an aggregate T has.
struct AnyField {
  template <typename T>
  operator T() const;  // NOLINT(google-explicit-constructor): implicit by design
};

template <typename T, typename... Fields>
constexpr size_t MemberCount() {
  if constexpr (requires { T{Fields{}..., AnyField{}}; }) {
    return MemberCount<T, Fields..., AnyField>();
  } else {
    return sizeof...(Fields);
  }
}

TEST(CaseRecordTest, ForEachCaseFieldListsEveryMemberOnce) {
  CaseInfo c;
  size_t listed = 0;
  ForEachCaseField(
      [&listed]<typename M>(const CaseField& f, M& value) {
        ++listed;
        EXPECT_FALSE(f.name.empty());
        if constexpr (kIsCaseText<M>) {
          EXPECT_TRUE(value.empty()) << f.name << " listed twice";
          value = std::string(f.name);
        } else {
          EXPECT_EQ(value, M{}) << f.name << " listed twice";
          value = static_cast<M>(static_cast<int64_t>(value) + 1);
        }
      },
      c);
  EXPECT_EQ(listed, MemberCount<CaseInfo>());
  EXPECT_EQ(MemberCount<CaseView>(), MemberCount<CaseInfo>());
  EXPECT_EQ(c.disrupt_type, "disrupt_type");
  EXPECT_EQ(c.sex, Sex::kMale);
}

TEST(CaseRecordTest, SexName) {
  EXPECT_EQ(SexName(Sex::kUnknown), "");
  EXPECT_EQ(SexName(Sex::kMale), "male");
  EXPECT_EQ(SexName(Sex::kFemale), "female");
  EXPECT_EQ(SexName(static_cast<Sex>(7)), "");
}

}  // namespace
}  // namespace shixin
