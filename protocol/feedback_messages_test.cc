#include "protocol/feedback_messages.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "protocol/messages.h"
#include "protocol/operator_messages.h"
#include "protocol/test_messages.h"

namespace shixin::wire {
namespace {

FeedbackRequest ThreeItems() {
  return {"9f2c41d0-3-1048576",
          "op-7",
          {{41, FeedbackOutcome::kApplied, ""},
           {52, FeedbackOutcome::kNotApplied, "已履行"},
           {29, FeedbackOutcome::kCancelled, "重复"}}};
}

TEST(FeedbackMessagesTest, RequestRoundTrip) {
  const std::string payload = Enc(ThreeItems());
  absl::StatusOr<FeedbackRequest> r = DecodeFeedbackRequest(payload);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->receipt, "9f2c41d0-3-1048576");
  EXPECT_EQ(r->operator_id, "op-7");
  ASSERT_EQ(r->items.size(), 3u);
  EXPECT_EQ(r->items[2].measure, 29);
  EXPECT_EQ(r->items[2].outcome, FeedbackOutcome::kCancelled);
  EXPECT_EQ(r->items[1].reason, "已履行");
  EXPECT_EQ(Enc(*r), payload);
  // Every strict prefix is truncated, and a trailing byte is refused.
  for (size_t n = 0; n < payload.size(); ++n) {
    EXPECT_FALSE(DecodeFeedbackRequest(payload.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeFeedbackRequest(payload + "x").ok());
}

TEST(FeedbackMessagesTest, ResponseRoundTrip) {
  const std::string payload = Enc(FeedbackResponse{2, "9f2c41d0-3-2000"});
  absl::StatusOr<FeedbackResponse> r = DecodeFeedbackResponse(payload);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->recorded, 2);
  EXPECT_EQ(r->feedback_receipt, "9f2c41d0-3-2000");
  EXPECT_FALSE(DecodeFeedbackResponse(payload.substr(0, 2)).ok());
}

TEST(FeedbackMessagesTest, RequestLimits) {
  FeedbackRequest m = ThreeItems();
  m.items.clear();
  absl::StatusOr<FeedbackRequest> r = DecodeFeedbackRequest(Enc(m));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("n: 0 items"), std::string::npos) << r.status();

  m.items.assign(kMaxFeedbackItems, {1, FeedbackOutcome::kApplied, ""});
  EXPECT_TRUE(DecodeFeedbackRequest(Enc(m)).ok());
  m.items.push_back({2, FeedbackOutcome::kApplied, ""});
  EXPECT_FALSE(DecodeFeedbackRequest(Enc(m)).ok());

  m = ThreeItems();
  m.items[1].reason = std::string(kMaxReasonBytes, 'r');
  EXPECT_TRUE(DecodeFeedbackRequest(Enc(m)).ok());
  m.items[1].reason.push_back('r');
  r = DecodeFeedbackRequest(Enc(m));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("item 2.reason: "), std::string::npos) << r.status();

  m = ThreeItems();
  m.operator_id = std::string(kMaxOperatorBytes + 1, 'o');
  EXPECT_FALSE(DecodeFeedbackRequest(Enc(m)).ok());

  // Texts the audit records and the reports print must be UTF-8 (x33 #1: a reason's raw
  // bytes reached the CSV and HTML reports).
  m = ThreeItems();
  m.items[1].reason = "\xE5\xB7\xB2\xFF\xFE";  // 已, then two bytes that are not UTF-8
  r = DecodeFeedbackRequest(Enc(m));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(
      r.status().message().find("item 2.reason: not UTF-8 (byte 0xff at offset 3 of the text)"),
      std::string::npos)
      << r.status();
  m = ThreeItems();
  m.operator_id = "op\xC0\xA0";  // an overlong space
  r = DecodeFeedbackRequest(Enc(m));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("operator: not UTF-8"), std::string::npos) << r.status();

  std::string bad_outcome = Enc(ThreeItems());
  // receipt (1 + 18), operator (1 + 4), n (1), measure (2): the first item's outcome.
  bad_outcome[1 + 18 + 1 + 4 + 1 + 2] = 3;
  r = DecodeFeedbackRequest(bad_outcome);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("item 1.outcome"), std::string::npos) << r.status();
}

TEST(FeedbackMessagesTest, CheckFeedbackItems) {
  EXPECT_TRUE(CheckFeedbackItems(ThreeItems().items).ok());
  std::vector<FeedbackItem> items = ThreeItems().items;
  items.push_back({52, FeedbackOutcome::kApplied, ""});
  absl::Status s = CheckFeedbackItems(items);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_NE(s.message().find("measure 52 is reported twice"), std::string::npos) << s;
  items = {{7, FeedbackOutcome::kNotApplied, ""}};
  s = CheckFeedbackItems(items);
  EXPECT_NE(s.message().find("not_applied needs a reason"), std::string::npos) << s;
  items = {{7, FeedbackOutcome::kCancelled, ""}};
  EXPECT_FALSE(CheckFeedbackItems(items).ok());
  items = {{0, FeedbackOutcome::kApplied, ""}};
  EXPECT_FALSE(CheckFeedbackItems(items).ok());
  // A reason of white space only says nothing: refused as a missing one.
  for (const char* blank : {" ", "   ", " \t\r\n", "\xE3\x80\x80", " \xE3\x80\x80 "}) {
    items = {{7, FeedbackOutcome::kNotApplied, blank}};
    EXPECT_TRUE(absl::IsInvalidArgument(CheckFeedbackItems(items))) << blank;
    items = {{7, FeedbackOutcome::kCancelled, blank}};
    EXPECT_TRUE(absl::IsInvalidArgument(CheckFeedbackItems(items))) << blank;
  }
  items = {{7, FeedbackOutcome::kNotApplied, " 已结清 "}};
  EXPECT_TRUE(CheckFeedbackItems(items).ok());
  EXPECT_TRUE(IsBlankReason(""));
  EXPECT_FALSE(IsBlankReason("\xE3\x80"));  // a cut ideographic space is not white space
  EXPECT_FALSE(IsBlankReason(" x"));
}

// Finding 4: pasted text holds characters that show nothing; a reason made of them says nothing.
TEST(FeedbackMessagesTest, InvisibleCharactersAreNoReason) {
  for (const char* blank : {
           "\xC2\xA0",                  // U+00A0 no-break space
           "\xE2\x80\x8B",              // U+200B zero-width space
           "\xE2\x80\x80\xE2\x80\x8A",  // U+2000, U+200A: en quad, hair space
           "\xE2\x80\x8C\xE2\x80\x8D\xE2\x80\x8E\xE2\x80\x8F",  // ZWNJ, ZWJ, LRM, RLM
           "\xEF\xBB\xBF",                                      // U+FEFF byte order mark
           "\xE2\x81\xA0",                                      // U+2060 word joiner
           "\xE2\x80\xAF",                                      // U+202F narrow no-break space
           "\xC2\xAD",                                          // U+00AD soft hyphen
           "\xEF\xB8\x8F",                                      // U+FE0F variation selector
           "\xE3\x85\xA4",                                      // U+3164 Hangul filler
           " \xE3\x80\x80\xC2\xA0\t\xE2\x80\x8B\x0B\xC2\x85",
           "\x01\x7F",  // control characters
       }) {
    EXPECT_TRUE(IsBlankReason(blank)) << blank;
    const std::vector<FeedbackItem> items = {{7, FeedbackOutcome::kCancelled, blank}};
    EXPECT_TRUE(absl::IsInvalidArgument(CheckFeedbackItems(items))) << blank;
  }
  // A visible character among them is a reason; bytes that are not UTF-8 are not blank.
  EXPECT_FALSE(IsBlankReason("\xE2\x80\x8B\xE5\xB7\xB2\xC2\xA0"));  // ZWSP 已 NBSP
  EXPECT_FALSE(IsBlankReason("\xE2\x80\x8B!"));
  EXPECT_FALSE(IsBlankReason("\xC2"));
  EXPECT_FALSE(IsBlankReason("\xC0\xA0"));      // an overlong space
  EXPECT_FALSE(IsBlankReason("\xED\xA0\x80"));  // a surrogate
  EXPECT_FALSE(IsBlankReason("\xE2\x80\x90"));  // U+2010 hyphen: visible
  EXPECT_EQ(FeedbackOutcomeName(FeedbackOutcome::kNotApplied), "not_applied");
  EXPECT_EQ(FeedbackOutcomeName(static_cast<FeedbackOutcome>(9)), "unknown");
}

// Version 4 adds fields; versions 1 to 3 keep their bytes whatever the new fields hold.
TEST(FeedbackMessagesTest, VersionGating) {
  CheckRequest check{{"11010519491231002X"}};
  MeasuresRequest measures;
  measures.id = "11010519491231002X";
  for (uint8_t version = 1; version <= 3; ++version) {
    const std::string check_before = Enc(check, version);
    const std::string measures_before = Enc(measures, version);
    CheckRequest with = check;
    with.context = {"m", "o", "p"};
    MeasuresRequest mwith = measures;
    mwith.context = {"m", "o", "p"};
    EXPECT_EQ(Enc(with, version), check_before);
    EXPECT_EQ(Enc(mwith, version), measures_before);
    CheckAnswer listed;
    listed.status = CheckStatus::kListed;
    listed.id = "11010519491231002X";
    std::string a, b;
    AppendCheckAnswer(listed, &a, version);
    listed.receipt = "r-1";
    AppendCheckAnswer(listed, &b, version);
    EXPECT_EQ(a, b);
    InfoResponse info;
    const std::string info_before = Enc(info, version);
    info.audit.state = AuditState::kOk;
    info.audit.records = 5;
    EXPECT_EQ(Enc(info, version), info_before);
  }
  // Version 4: the context follows as_of (str8, str8, str16).
  check.context = {"m", "o", "p"};
  const std::string v3 = Enc(check, 3);
  EXPECT_EQ(Enc(check, 4), v3 + std::string("\x01m\x01o\x00\x01p", 7));
  check.context = {};
  EXPECT_EQ(Enc(check, 4), v3 + std::string(4, '\0'));
  // A receipt only on listed and related answers.
  for (CheckStatus status : {CheckStatus::kInvalid, CheckStatus::kUnlisted}) {
    CheckAnswer a;
    a.status = status;
    a.receipt = "r-1";
    std::string v3a, v4a;
    AppendCheckAnswer(a, &v3a, 3);
    AppendCheckAnswer(a, &v4a, 4);
    EXPECT_EQ(v3a, v4a);
  }
}

TEST(FeedbackMessagesTest, ContextLimits) {
  MeasuresRequest m;
  m.id = "11010519491231002X";
  m.context = {std::string(kMaxMatterBytes, 'm'), std::string(kMaxOperatorBytes, 'o'),
               std::string(kMaxPurposeBytes, 'p')};
  absl::StatusOr<MeasuresRequest> r = DecodeMeasuresRequest(Enc(m, 4), 4);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->context.purpose.size(), kMaxPurposeBytes);
  for (int field = 0; field < 3; ++field) {
    MeasuresRequest over = m;
    std::string* s = field == 0   ? &over.context.matter
                     : field == 1 ? &over.context.operator_id
                                  : &over.context.purpose;
    s->push_back('x');
    EXPECT_FALSE(DecodeMeasuresRequest(Enc(over, 4), 4).ok()) << field;
    CheckRequest check{{"11010519491231002X"}, kAsOfNow, over.context};
    EXPECT_FALSE(DecodeCheckRequest(Enc(check, 4), 4).ok()) << field;
    // Within the limit but not UTF-8: refused too.
    s->assign("\xE4\xBA");  // the first two bytes of a three-byte character
    r = DecodeMeasuresRequest(Enc(over, 4), 4);
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_NE(r.status().message().find("not UTF-8 (byte 0xe4 at offset 0"), std::string::npos)
        << r.status();
    check.context = over.context;
    EXPECT_FALSE(DecodeCheckRequest(Enc(check, 4), 4).ok()) << field;
  }
}

TEST(FeedbackMessagesTest, InfoAuditRoundTrip) {
  InfoResponse info;
  info.audit = {AuditState::kFailing, "disk full", 10, 2048, 20270108, "note", 3};
  absl::StatusOr<InfoResponse> r = DecodeInfoResponse(Enc(info, 4), 4);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->audit.state, AuditState::kFailing);
  EXPECT_EQ(r->audit.error, "disk full");
  EXPECT_EQ(r->audit.records, 10u);
  EXPECT_EQ(r->audit.bytes, 2048u);
  EXPECT_EQ(r->audit.next_report_due, 20270108u);
  EXPECT_EQ(r->audit.due_note, "note");
  EXPECT_EQ(r->audit.receipts_without_feedback, 3u);
  std::string bad = Enc(info, 4);
  bad[Enc(info, 3).size()] = 3;  // audit state 3
  EXPECT_FALSE(DecodeInfoResponse(bad, 4).ok());
}

}  // namespace
}  // namespace shixin::wire
