#include "tests/browser/render.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shixin::browser {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs Chromium headless on `html_path` with `extra` flags, its stdout into `stdout_path`,
// in its own process group (killed whole on timeout) and with a fresh profile directory.
absl::Status RunChromium(const std::string& html_path, const std::vector<std::string>& extra,
                         const std::string& stdout_path, absl::Duration timeout) {
  const std::string chromium = ChromiumPath();
  if (chromium.empty()) return absl::FailedPreconditionError("chromium is not installed");
  char profile_template[] = "/tmp/shixin-chromium-XXXXXX";
  if (mkdtemp(profile_template) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  const std::string profile = profile_template;
  std::vector<std::string> args = {chromium,
                                   "--headless=new",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--hide-scrollbars",
                                   "--user-data-dir=" + profile};
  args.insert(args.end(), extra.begin(), extra.end());
  // A page of a live server is loaded as is; a file by its absolute file:// URL.
  const bool url = html_path.rfind("http://", 0) == 0;
  args.push_back(url ? html_path : "file://" + std::filesystem::absolute(html_path).string());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    setpgid(0, 0);
    const int out = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int devnull = open("/dev/null", O_WRONLY);
    if (out >= 0) dup2(out, 1);
    if (devnull >= 0) dup2(devnull, 2);  // Chromium's D-Bus chatter
    execv(argv[0], argv.data());
    _exit(127);
  }
  setpgid(pid, pid);
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  absl::Status result = absl::OkStatus();
  while (true) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (absl::Now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      result = absl::DeadlineExceededError(
          absl::StrCat("chromium ran longer than ", absl::FormatDuration(timeout)));
      break;
    }
    usleep(20000);
  }
  kill(-pid, SIGKILL);  // helpers left behind by the browser, if any
  std::error_code ec;
  std::filesystem::remove_all(profile, ec);
  if (!result.ok()) return result;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("chromium failed (status ", status, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string ChromiumPath() {
  const char* env = std::getenv("SHIXIN_CHROMIUM");
  const std::string path = env != nullptr && *env != '\0' ? env : "/usr/bin/chromium";
  return access(path.c_str(), X_OK) == 0 ? path : "";
}

namespace {

// Returns where Chromium's standard output about `html_path` goes: beside the file, or for a URL
// a file of this process in /tmp.
std::string SideFile(const std::string& html_path, const char* suffix) {
  if (html_path.rfind("http://", 0) != 0) return absl::StrCat(html_path, suffix);
  static std::atomic<int> next{0};
  return absl::StrCat("/tmp/shixin-chromium-", getpid(), "-", next++, suffix);
}

}  // namespace

absl::StatusOr<std::string> DumpDom(const std::string& html_path, absl::Duration timeout) {
  const std::string out = SideFile(html_path, ".dom");
  absl::Status s = RunChromium(html_path, {"--dump-dom"}, out, timeout);
  if (!s.ok()) return s;
  std::string dom = ReadAll(out);
  std::remove(out.c_str());
  return dom;
}

absl::StatusOr<std::string> PrintToPdf(const std::string& html_path, const std::string& pdf_path,
                                       absl::Duration timeout) {
  std::remove(pdf_path.c_str());
  const std::string out = SideFile(html_path, ".out");
  absl::Status s = RunChromium(html_path, {"--no-pdf-header-footer", "--print-to-pdf=" + pdf_path},
                               out, timeout);
  std::remove(out.c_str());
  if (!s.ok()) return s;
  if (access(pdf_path.c_str(), R_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(pdf_path, ": chromium wrote no PDF"));
  }
  return ReadAll(pdf_path);
}

absl::Status Screenshot(const std::string& html_path, const std::string& png_path, int width,
                        int height, absl::Duration timeout) {
  std::remove(png_path.c_str());
  const std::string out = SideFile(html_path, ".out");
  absl::Status s = RunChromium(
      html_path, {"--screenshot=" + png_path, absl::StrCat("--window-size=", width, ",", height)},
      out, timeout);
  std::remove(out.c_str());
  if (!s.ok()) return s;
  if (access(png_path.c_str(), R_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(png_path, ": chromium wrote no screenshot"));
  }
  return absl::OkStatus();
}

bool PdfInfo::IsA4() const {
  return std::fabs(width_pt - 595.28) < 1.0 && std::fabs(height_pt - 841.89) < 1.0;
}

absl::StatusOr<PdfInfo> InspectPdf(std::string_view pdf) {
  if (pdf.substr(0, 5) != "%PDF-") return absl::InvalidArgumentError("not a PDF");
  PdfInfo info;
  for (size_t at = pdf.find("/Type"); at != std::string_view::npos;
       at = pdf.find("/Type", at + 5)) {
    size_t p = at + 5;
    while (p < pdf.size() && (pdf[p] == ' ' || pdf[p] == '\n' || pdf[p] == '\r')) ++p;
    if (pdf.substr(p, 5) == "/Page" && (p + 5 >= pdf.size() || pdf[p + 5] != 's')) ++info.pages;
  }
  const size_t box = pdf.find("/MediaBox");
  if (box == std::string_view::npos) return absl::InvalidArgumentError("no MediaBox");
  const size_t open = pdf.find('[', box);
  const size_t close = pdf.find(']', box);
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return absl::InvalidArgumentError("bad MediaBox");
  }
  std::istringstream numbers(std::string(pdf.substr(open + 1, close - open - 1)));
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  if (!(numbers >> x0 >> y0 >> x1 >> y1)) return absl::InvalidArgumentError("bad MediaBox");
  info.width_pt = x1 - x0;
  info.height_pt = y1 - y0;
  return info;
}

absl::StatusOr<PdfInfo> PrintAndInspect(const std::string& html_path, const std::string& pdf_path) {
  absl::StatusOr<std::string> pdf = PrintToPdf(html_path, pdf_path);
  if (!pdf.ok()) return pdf.status();
  return InspectPdf(*pdf);
}

}  // namespace shixin::browser
