// The punishment notice as sections (notice/notice.h): the one place its wording lives, built
// by notice.cc and rendered as text or as HTML by notice_render.cc. Private to notice/.
//
// Thread safety: plain values and a pure function.
#ifndef SHIXIN_NOTICE_NOTICE_DOCUMENT_H_
#define SHIXIN_NOTICE_NOTICE_DOCUMENT_H_

#include <string>
#include <vector>

#include "notice/notice.h"

namespace shixin::notice {

// A table of a section: its header row (none: no table) and its rows.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::string html_class =
      {};  // the HTML table's class (notice_render.cc's kStyle sizes its columns), or ""
};
// A numbered part of the notice: its heading, then paragraphs around a table.
struct Section {
  std::string heading;
  std::vector<std::string> before = {};  // paragraphs before the table
  Table table = {};                      // may be empty
  std::vector<std::string> after = {};   // paragraphs after it
};
// The whole notice, from its title to its footnote.
struct Document {
  std::string title;
  std::string addressee;  // the first line: to whom
  std::vector<Section> sections;
  std::vector<std::string> closing;   // the issuer and the date (right-aligned in HTML)
  std::vector<std::string> footnote;  // receipt, list version, time of the answer
};

// Returns the notice of `in` as sections. REQUIRES: in.catalog != nullptr.
Document BuildDocument(const NoticeInput& in);

}  // namespace shixin::notice

#endif  // SHIXIN_NOTICE_NOTICE_DOCUMENT_H_
