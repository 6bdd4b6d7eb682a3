#include "core/grounds.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/terminal.h"
#include "core/validity.h"

namespace shixin {
namespace {

// SPC rules Art. 1 (1): the only ground without a fixed term (Art. 2).
constexpr std::string_view kGroundOne = "有履行能力而拒不履行生效法律文书确定义务";
// Grounds (2)-(6) as the court's records name them (synthetic/tables.h, data/sample).
constexpr std::string_view kFixedTermGrounds[] = {
    "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
    "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
    "违反财产报告制度",
    "违反限制消费令",
    "无正当理由拒不履行执行和解协议",
};
// What separates two grounds; white space around them is skipped too. Two grounds contain "、"
// themselves: a ground is matched whole before a separator is looked for.
constexpr std::string_view kSeparators[] = {",", "，", "、"};
constexpr std::string_view kSpaces[] = {" ", "\t", "\u3000"};

// Removes from the front of `text` every piece of `pieces`, as often as they come.
template <size_t N>
void SkipAny(std::string_view& text, const std::string_view (&pieces)[N]) {
  for (bool skipped = true; skipped;) {
    skipped = false;
    for (std::string_view p : pieces) {
      if (text.starts_with(p)) {
        text.remove_prefix(p.size());
        skipped = true;
      }
    }
  }
}

// Removes the separator (and the white space around it) at the front of `text`; false if there
// is none.
bool SkipSeparator(std::string_view& text) {
  SkipAny(text, kSpaces);
  for (std::string_view s : kSeparators) {
    if (text.starts_with(s)) {
      text.remove_prefix(s.size());
      SkipAny(text, kSpaces);
      return true;
    }
  }
  return false;
}

}  // namespace

bool OnlyFixedTermGrounds(std::string_view disrupt_type) {
  std::string_view rest = disrupt_type;
  SkipAny(rest, kSpaces);
  if (rest.empty()) return false;
  while (true) {
    if (rest.starts_with(kGroundOne)) return false;
    const auto ground = std::find_if(std::begin(kFixedTermGrounds), std::end(kFixedTermGrounds),
                                     [&](std::string_view g) { return rest.starts_with(g); });
    if (ground == std::end(kFixedTermGrounds)) return false;  // a text the six do not name
    rest.remove_prefix(ground->size());
    SkipAny(rest, kSpaces);
    if (rest.empty()) return true;
    if (!SkipSeparator(rest) || rest.empty()) return false;
  }
}

bool TermlessFixedTermCase(const CaseView& c) {
  return c.term_end == 0 && OnlyFixedTermGrounds(c.disrupt_type);
}

void TermlessCases::Add(std::string_view case_code, int64_t start) {
  ++count_;
  if (shown_.size() < kShown) shown_.emplace_back(TerminalSafe(case_code, Quoting::kKept), start);
}

std::string TermlessCases::Note() const {
  if (count_ == 0) return "";
  std::string cases;
  for (const auto& [code, start] : shown_) {
    absl::StrAppend(&cases, cases.empty() ? "" : ", ", code, " since ",
                    start == 0 ? "ever" : FormatDate(DayOf(start)));
  }
  if (count_ > shown_.size()) absl::StrAppend(&cases, " and ", count_ - shown_.size(), " more");
  const bool one = count_ == 1;
  return absl::StrFormat(
      "%d %s for grounds (2)-(6) only %s no termEnd: %s until the court removes %s, though SPC "
      "rules Art. 2 give such a listing 2 years (%s)",
      count_, one ? "case" : "cases", one ? "has" : "have", one ? "it counts" : "they count",
      one ? "it" : "them", cases);
}

}  // namespace shixin
