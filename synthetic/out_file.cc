#include "synthetic/out_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "synthetic/fields.h"

namespace shixin::synthetic_internal {

OutFile::~OutFile() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status OutFile::Open(const std::string& path) {
  path_ = path;
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", path));
  return absl::OkStatus();
}

void OutFile::Add(std::string_view s) {
  if (size_ + s.size() > kBufferSize) Flush();
  if (s.size() > kBufferSize) return Write(s.data(), s.size());
  std::memcpy(buffer_.get() + size_, s.data(), s.size());
  size_ += s.size();
}

void OutFile::AddEscaped(std::string_view s) {
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    Add(s.substr(start, i - start));
    AddEscape(c);
    start = i + 1;
  }
  Add(s.substr(start));
}

void OutFile::AddField(std::string_view key, std::string_view value, bool first) {
  Add(first ? "{\"" : ",\"");
  Add(key);
  Add("\":\"");
  AddEscaped(value);
  Add("\"");
}

absl::Status OutFile::Close() {
  Flush();
  if (file_ != nullptr && std::fclose(file_) != 0 && error_ == 0) error_ = errno;
  file_ = nullptr;
  if (error_ != 0) return absl::ErrnoToStatus(error_, absl::StrCat("cannot write ", path_));
  return absl::OkStatus();
}

void OutFile::AddEscape(unsigned char c) {
  switch (c) {
    case '"':
      return Add("\\\"");
    case '\\':
      return Add("\\\\");
    case '\n':
      return Add("\\n");
    case '\r':
      return Add("\\r");
    case '\t':
      return Add("\\t");
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      return Add(std::string_view(u, 6));
    }
  }
}

void OutFile::Flush() {
  Write(buffer_.get(), size_);
  size_ = 0;
}

// After the first error the rest is dropped: the caller sees the error at Close().
void OutFile::Write(const char* data, size_t n) {
  if (error_ != 0 || n == 0) return;
  if (std::fwrite(data, 1, n, file_) != n) error_ = errno != 0 ? errno : EIO;
}

void AddCaseKeys(const CaseInput& c, OutFile* out, bool first) {
  const bool person = c.id.subject_kind() == SubjectKind::kPerson;
  Text<32> text;
  out->AddField("caseCode", c.case_code, first);
  out->AddField("iname", c.name);
  out->AddField("cardNum", c.id.text());
  out->AddField("partyTypeName", person ? "0" : "1");
  out->AddField("businessEntity", c.business_entity);
  out->AddField("courtName", c.court);
  out->AddField("areaName", c.area);
  out->AddField("gistId", c.gist_id);
  out->AddField("gistUnit", c.gist_unit);
  text.AddUint(c.reg_date, 8);
  out->AddField("regDate", text.view());
  text.Clear();
  AddDate(c.publish_date, "年", "月", "日", &text);
  out->AddField("publishDate", text.view());
  out->AddField("duty", c.duty);
  out->AddField("performance", c.performance);
  out->AddField("performedPart", c.performed_part);
  out->AddField("unperformPart", c.unperform_part);
  out->AddField("disruptTypeName", c.disrupt_type);
  text.Clear();
  text.AddUint(c.age);
  out->AddField("age", text.view());
  out->AddField("sexy", c.sex == Sex::kMale ? "男性" : c.sex == Sex::kFemale ? "女性" : "");
  if (c.term_end != 0) {
    text.Clear();
    AddDate(c.term_end, "-", "-", "", &text);
    out->AddField("termEnd", text.view());
  }
}

}  // namespace shixin::synthetic_internal
