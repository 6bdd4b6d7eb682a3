#include "core/paths.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/block_checksum.h"
#include "core/test_util.h"

namespace shixin {
namespace {

// A file in the test's temporary directory, removed at the end.
class PathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The pid too: runs of other builds of this test at once must not share the path.
    path_ = std::filesystem::path(::testing::TempDir()) /
            absl::StrCat(::testing::UnitTest::GetInstance()->current_test_info()->name(), ".",
                         ::getpid());
  }
  void TearDown() override { std::filesystem::remove(path_); }

  void Write(const std::string& content) { std::ofstream(path_, std::ios::binary) << content; }

  std::filesystem::path path_;
};

// Every byte, NULs and a last line without its newline included, from the descriptor's
// position to the end; the buffer is not zeroed first, so each byte must be the file's.
TEST_F(PathsTest, ReadOpenFileReadsTheRestOfTheFileExactly) {
  std::string content(3 << 20, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 131 % 251);
  Write(content);
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::lseek(fd, 1000, SEEK_SET), 1000);
  absl::StatusOr<FileBytes> bytes = ReadOpenFile(fd, path_);
  ::close(fd);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(bytes->size(), content.size() - 1000);
  EXPECT_TRUE(bytes->view() == std::string_view(content).substr(1000));
}

TEST_F(PathsTest, ReadOpenFileOfAnEmptyFileIsEmpty) {
  Write("");
  absl::StatusOr<std::string> text = ReadRegularFile(path_);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "");
}

// A source whose size fstat does not tell (a pipe: 0) grows the buffer as it reads, keeping
// what it had read.
TEST_F(PathsTest, ReadOpenFileGrowsPastTheSizeItExpected) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::string content;
  for (int i = 0; content.size() < (700 << 10); ++i) content += std::to_string(i) + "\n";
  std::thread writer([&] {
    for (size_t done = 0; done < content.size();) {
      const ssize_t n = ::write(fds[1], content.data() + done, content.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fds[1]);
  });
  absl::StatusOr<FileBytes> bytes = ReadOpenFile(fds[0], "a pipe");
  writer.join();
  ::close(fds[0]);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_TRUE(bytes->view() == content);
}

// A file larger than the limit is refused from its size, before it is read.
TEST_F(PathsTest, ReadOpenFileRefusesAFileLargerThanTheLimit) {
  Write(std::string(1000, 'x'));
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  absl::StatusOr<FileBytes> over = ReadOpenFile(fd, "f", 999);
  EXPECT_EQ(::lseek(fd, 0, SEEK_CUR), 0);  // nothing read
  absl::StatusOr<FileBytes> exact = ReadOpenFile(fd, "f", 1000);
  ::close(fd);
  EXPECT_TRUE(absl::IsResourceExhausted(over.status())) << over.status();
  EXPECT_EQ(over.status().message(), "f: more than 999 bytes");
  ASSERT_TRUE(exact.ok()) << exact.status();
  EXPECT_EQ(exact->size(), 1000u);
}

// A source that grows past the limit while it is read (a stream socket's size is unknown
// beforehand) is refused once it passes it, whatever comes after.
TEST_F(PathsTest, ReadOpenFileStopsWhereAGrowingSourcePassesTheLimit) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  std::thread writer([&] {
    const std::string chunk(4096, 'y');
    for (int i = 0; i < 256; ++i) {  // 1 MiB, unless the reader stops first
      if (::send(fds[1], chunk.data(), chunk.size(), MSG_NOSIGNAL) <= 0) break;
    }
    ::close(fds[1]);
  });
  absl::StatusOr<FileBytes> bytes = ReadOpenFile(fds[0], "a socket", 100000);
  ::shutdown(fds[0], SHUT_RDWR);  // the writer's next send fails: it stops
  ::close(fds[0]);
  writer.join();
  EXPECT_TRUE(absl::IsResourceExhausted(bytes.status())) << bytes.status();
}

TEST_F(PathsTest, ReadOpenFileNamesThePathWhenTheReadFails) {
  const int fd = ::open(::testing::TempDir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  absl::StatusOr<FileBytes> bytes = ReadOpenFile(fd, "the-directory");
  ::close(fd);
  ASSERT_FALSE(bytes.ok());
  EXPECT_TRUE(absl::StrContains(bytes.status().message(), "the-directory: read")) << bytes.status();
}

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST_F(PathsTest, WriteFileAtomicallyReplacesASymbolicLinksTargetAndKeepsTheLink) {
  const std::filesystem::path target = path_.string() + "-target";
  std::ofstream(target) << "old";
  std::filesystem::create_symlink(target.filename(), path_);  // relative, as ln -s makes it
  ASSERT_TRUE(WriteFileAtomically(path_.string(), "new").ok());
  EXPECT_TRUE(std::filesystem::is_symlink(path_));
  EXPECT_EQ(Slurp(target), "new");
  // A link to a file not yet there creates that file.
  std::filesystem::remove(target);
  ASSERT_TRUE(WriteFileAtomically(path_.string(), "created").ok());
  EXPECT_TRUE(std::filesystem::is_symlink(path_));
  EXPECT_EQ(Slurp(target), "created");
  std::filesystem::remove(target);
}

// x24 #5: a chain of links whose last one dangles ("current" -> a link -> a file not there
// yet): the file the last link names is created, and every link stays one. A loop is refused.
TEST_F(PathsTest, WriteFileAtomicallyFollowsADanglingChainOfLinksToItsEnd) {
  const std::filesystem::path second = path_.string() + "-link2";
  const std::filesystem::path end = path_.string() + "-missing";
  std::filesystem::create_symlink(second.filename(), path_);
  std::filesystem::create_symlink(end.filename(), second);
  ASSERT_TRUE(WriteFileAtomically(path_.string(), "created").ok());
  EXPECT_TRUE(std::filesystem::is_symlink(path_));
  EXPECT_TRUE(std::filesystem::is_symlink(second));
  EXPECT_EQ(Slurp(end), "created");
  std::filesystem::remove(second);
  std::filesystem::remove(end);
  std::filesystem::create_symlink(path_.filename(), second);  // path_ -> second -> path_
  const absl::Status loop = WriteFileAtomically(path_.string(), "x");
  EXPECT_TRUE(absl::IsFailedPrecondition(loop)) << loop;
  EXPECT_THAT(loop.message(), ::testing::HasSubstr("more than 40 symbolic links"));
  EXPECT_TRUE(std::filesystem::is_symlink(path_));
  EXPECT_TRUE(std::filesystem::is_symlink(second));
  std::filesystem::remove(second);
}

TEST_F(PathsTest, WriteFileAtomicallyWritesThroughAFifo) {
  ASSERT_EQ(::mkfifo(path_.c_str(), 0600), 0);
  // The reader is there first (a FIFO nobody reads is an error); the pipe holds the bytes.
  const int reader = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  const absl::Status s = WriteFileAtomically(path_.string(), "through");
  std::string read(64, '\0');
  const ssize_t n = ::read(reader, read.data(), read.size());
  ::close(reader);
  read.resize(n > 0 ? static_cast<size_t>(n) : 0);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(read, "through");
  EXPECT_EQ(std::filesystem::status(path_).type(), std::filesystem::file_type::fifo);
  const absl::Status dir = WriteFileAtomically(::testing::TempDir(), "x");
  EXPECT_TRUE(absl::IsFailedPrecondition(dir)) << dir;
}

// Another local user's plant at the old fixed name `path`.tmp: a symbolic link to a file of the
// writer's, and a file they created and hold open. Neither is written through nor becomes the
// output, which is a new file of the writer's own with the mode asked for.
TEST_F(PathsTest, WriteFileAtomicallyNeverUsesAFilePlantedAtTheTemporaryName) {
  const std::string planted = path_.string() + ".tmp";
  const std::string victim = path_.string() + "-victim";
  std::ofstream(victim) << "precious";
  std::filesystem::create_symlink(victim, planted);
  ASSERT_TRUE(WriteFileAtomically(path_.string(), "output").ok());
  EXPECT_EQ(Slurp(victim), "precious");
  EXPECT_EQ(Slurp(path_), "output");
  EXPECT_TRUE(std::filesystem::is_symlink(planted));
  std::filesystem::remove(planted);

  const int held = ::open(planted.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  ASSERT_GE(held, 0);
  ASSERT_EQ(::fchmod(held, 0666), 0);
  ASSERT_TRUE(WriteFileAtomically(
                  path_.string(),
                  [this](int fd, const std::string& tmp) {
                    EXPECT_NE(tmp, path_.string() + ".tmp");
                    return WriteAll(fd, "secret", 6) ? absl::OkStatus() : absl::InternalError(tmp);
                  },
                  0600)
                  .ok());
  struct stat held_st {
  }, out{};
  ASSERT_EQ(::fstat(held, &held_st), 0);
  ASSERT_EQ(::stat(path_.c_str(), &out), 0);
  EXPECT_NE(out.st_ino, held_st.st_ino);
  EXPECT_EQ(held_st.st_size, 0);  // nothing reached the holder's file
  EXPECT_EQ(out.st_mode & 07777, 0600u);
  EXPECT_EQ(out.st_uid, ::geteuid());
  ::close(held);
  std::filesystem::remove(planted);
  std::filesystem::remove(victim);
  // Nothing else is left beside the output.
  for (const auto& entry : std::filesystem::directory_iterator(path_.parent_path())) {
    EXPECT_FALSE(
        absl::StartsWith(entry.path().filename().string(), path_.filename().string() + ".tmp"))
        << entry.path();
  }
}

// Returns the names in `dir` that start with `prefix`.
std::vector<std::string> NamesStartingWith(const std::filesystem::path& dir,
                                           const std::string& prefix) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, prefix)) names.push_back(name);
  }
  return names;
}

// A process killed while writing (a compile of a national list, GBs) leaves nothing in the
// directory: the file has no name until it is whole (O_TMPFILE).
TEST_F(PathsTest, WriteFileAtomicallyKilledWhileWritingLeavesNothing) {
  const std::string dir = path_.parent_path().string();
  if (const int probe = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600); probe >= 0) {
    ::close(probe);
  } else {
    GTEST_SKIP() << dir << " has no unnamed files (O_TMPFILE): the named fallback is used";
  }
  int writing[2];  // the child says it is writing
  int never[2];    // and waits on this, which never says anything
  ASSERT_EQ(::pipe2(writing, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(never, O_CLOEXEC), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string chunk(1 << 20, 'x');
    (void)WriteFileAtomically(path_.string(), [&](int fd, const std::string&) {
      for (int i = 0; i < 8; ++i) (void)WriteAll(fd, chunk.data(), chunk.size());
      (void)!::write(writing[1], "w", 1);
      char byte;
      (void)!::read(never[0], &byte, 1);  // blocks until killed
      return absl::OkStatus();
    });
    ::_exit(0);
  }
  ::close(writing[1]);
  char byte = 0;
  pollfd p{.fd = writing[0], .events = POLLIN, .revents = 0};
  const bool started = ::poll(&p, 1, 10'000) == 1 && ::read(writing[0], &byte, 1) == 1;
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ::close(writing[0]);
  ::close(never[0]);
  ::close(never[1]);
  ASSERT_TRUE(started) << "the child did not start writing within 10 s";
  EXPECT_TRUE(WIFSIGNALED(status));
  const std::vector<std::string> left = NamesStartingWith(dir, path_.filename().string());
  EXPECT_THAT(left, ::testing::IsEmpty());
  for (const std::string& name : left) std::filesystem::remove(path_.parent_path() / name);
}

// A link planted while the file is written, at the very name it is to get, is left as it is:
// the file gets another name, and the link's target is never written.
TEST_F(PathsTest, WriteFileAtomicallyNamesTheFileAroundALinkPlantedAtItsName) {
  const std::string victim = path_.string() + "-victim";
  std::ofstream(victim) << "precious";
  std::string planted;
  ASSERT_TRUE(WriteFileAtomically(path_.string(), [&](int fd, const std::string& tmp) {
                std::error_code error;  // the name is already the file's without O_TMPFILE
                std::filesystem::create_symlink(victim, tmp, error);
                if (!error) planted = tmp;
                return WriteAll(fd, "output", 6) ? absl::OkStatus() : absl::InternalError(tmp);
              }).ok());
  EXPECT_EQ(Slurp(victim), "precious");
  EXPECT_EQ(Slurp(path_), "output");
  if (!planted.empty()) {
    EXPECT_TRUE(std::filesystem::is_symlink(planted));
    std::filesystem::remove(planted);
  }
  std::filesystem::remove(victim);
}

TEST_F(PathsTest, CreateFileBesideMakesANewFileEachTime) {
  std::string first;
  std::string second;
  const absl::StatusOr<int> a = CreateFileBeside(path_.string(), 0640, &first);
  const absl::StatusOr<int> b = CreateFileBeside(path_.string(), 0640, &second);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(first, second);
  EXPECT_TRUE(absl::StartsWith(first, path_.string() + ".tmp.")) << first;
  struct stat st {};
  ASSERT_EQ(::fstat(*a, &st), 0);
  EXPECT_EQ(st.st_mode & 0077 & ~0640, 0u);
  ::close(*a);
  ::close(*b);
  std::filesystem::remove(first);
  std::filesystem::remove(second);
  const absl::StatusOr<int> missing = CreateFileBeside("/nonexistent-dir/x", 0600, &first);
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "cannot create /nonexistent-dir/x.tmp"))
      << missing.status();
}

// The compiled list is no more readable than the files it was compiled from.
TEST_F(PathsTest, NarrowAccessToKeepsWhatEverySourceAllows) {
  const std::string a = path_.string() + "-a";
  const std::string b = path_.string() + "-b";
  std::ofstream(a) << "a";
  std::ofstream(b) << "b";
  const auto narrowed = [&](mode_t start, const std::vector<std::string>& sources) -> mode_t {
    std::filesystem::remove(path_);
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::fchmod(fd, start), 0);
    const absl::Status s = NarrowAccessTo(fd, sources, "out");
    EXPECT_TRUE(s.ok()) << s;
    struct stat st {};
    EXPECT_EQ(::fstat(fd, &st), 0);
    ::close(fd);
    return st.st_mode & 07777;
  };
  ASSERT_EQ(::chmod(a.c_str(), 0600), 0);
  ASSERT_EQ(::chmod(b.c_str(), 0644), 0);
  EXPECT_EQ(narrowed(0644, {a}), 0600u);
  EXPECT_EQ(narrowed(0644, {b, a}), 0600u);
  EXPECT_EQ(narrowed(0644, {b}), 0644u);
  EXPECT_EQ(narrowed(0600, {b}), 0600u);  // never widened
  EXPECT_EQ(narrowed(0644, {}), 0644u);
  EXPECT_EQ(narrowed(0644, {path_.string() + "-missing"}), 0644u);
  ASSERT_EQ(::chmod(a.c_str(), 0640), 0);
  ASSERT_EQ(::chmod(b.c_str(), 0644), 0);
  EXPECT_EQ(narrowed(0644, {a, b}), 0640u);
  if (::geteuid() == 0) {  // the sources' group is the file's; two groups: no group access
    ASSERT_EQ(::chown(a.c_str(), static_cast<uid_t>(-1), 4242), 0);
    EXPECT_EQ(narrowed(0644, {a}), 0640u);
    struct stat st {};
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_gid, 4242u);
    ASSERT_EQ(::chown(b.c_str(), static_cast<uid_t>(-1), 4243), 0);
    EXPECT_EQ(narrowed(0644, {a, b}), 0600u);
  }
  std::filesystem::remove(a);
  std::filesystem::remove(b);
}

// x24 #13/#14: a FIFO, a device or a huge file put at a small state file's name is an error
// naming the file and what it is; nothing waits for a writer or reads the device without end.
TEST_F(PathsTest, ReadRegularFileRefusesAFifoADeviceAndMoreThanItsCap) {
  ASSERT_EQ(::mkfifo(path_.c_str(), 0600), 0);
  absl::StatusOr<std::string> fifo = ReadRegularFile(path_, 64);  // returns at once
  EXPECT_TRUE(absl::IsFailedPrecondition(fifo.status())) << fifo.status();
  EXPECT_EQ(fifo.status().message(), path_.string() + ": not a regular file (a FIFO)");
  std::filesystem::remove(path_);
  std::filesystem::create_symlink("/dev/zero", path_);
  absl::StatusOr<std::string> zero = ReadRegularFile(path_, 64);
  EXPECT_EQ(zero.status().message(), path_.string() + ": not a regular file (a character device)");
  std::filesystem::remove(path_);
  Write(std::string(65, 'x'));
  absl::StatusOr<std::string> big = ReadRegularFile(path_, 64);
  EXPECT_TRUE(absl::IsResourceExhausted(big.status())) << big.status();
  EXPECT_EQ(big.status().message(), path_.string() + ": more than 64 bytes");
  EXPECT_EQ(ReadRegularFile(path_, 65).value_or(""), std::string(65, 'x'));
}

// A state file read with Links::kRefuse is never read through a link put at its name.
TEST_F(PathsTest, ReadRegularFileCanRefuseALink) {
  const std::filesystem::path target = path_.string() + "-target";
  std::ofstream(target) << "secret";
  std::filesystem::create_symlink(target, path_);
  EXPECT_EQ(ReadRegularFile(path_).value_or(""), "secret");
  absl::StatusOr<std::string> refused =
      ReadRegularFile(path_, std::numeric_limits<size_t>::max(), Links::kRefuse);
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), ::testing::HasSubstr(path_.string() + ": cannot open"));
  std::filesystem::remove(target);
}

// A FIFO nobody reads is an error at once, not a writer waiting forever (the checkpoint
// thread did, and SIGTERM then never finished).
TEST_F(PathsTest, WriteFileAtomicallyToAFifoNobodyReadsFailsAtOnce) {
  ASSERT_EQ(::mkfifo(path_.c_str(), 0600), 0);
  absl::Status s;
  const bool returned = shixin::testing::ReturnsWithoutTheOtherSideOfAFifo(
      path_.string(), O_RDONLY, [&] { s = WriteFileAtomically(path_.string(), "x"); });
  ASSERT_TRUE(returned) << "WriteFileAtomically waited for a reader of the FIFO";
  EXPECT_THAT(s.message(), ::testing::HasSubstr("cannot open " + path_.string()));
}

// A state file is written as a regular file or not at all: never through a FIFO or a device
// (a checkpoint "written" to /dev/null does not persist).
TEST_F(PathsTest, WriteStateFileRefusesAnythingButARegularFile) {
  ASSERT_EQ(::mkfifo(path_.c_str(), 0600), 0);
  const absl::Status fifo =
      WriteStateFile(path_.string(), [](int, const std::string&) { return absl::OkStatus(); });
  EXPECT_TRUE(absl::IsFailedPrecondition(fifo)) << fifo;
  EXPECT_EQ(fifo.message(), path_.string() + ": not a regular file (a FIFO): not written");
  EXPECT_EQ(std::filesystem::status(path_).type(), std::filesystem::file_type::fifo);
  std::filesystem::remove(path_);
  std::filesystem::create_symlink("/dev/null", path_);
  const absl::Status null =
      WriteStateFile(path_.string(), [](int, const std::string&) { return absl::OkStatus(); });
  EXPECT_EQ(null.message(),
            path_.string() + ": not a regular file (a character device): not written");
  std::filesystem::remove(path_);
  const absl::Status regular = WriteStateFile(path_.string(), [](int fd, const std::string&) {
    return ::write(fd, "ok", 2) == 2 ? absl::OkStatus() : absl::InternalError("write");
  });
  ASSERT_TRUE(regular.ok()) << regular;
  EXPECT_EQ(Slurp(path_), "ok");
}

// x24 #9: /dev/fd/N names a descriptor: written through it, appending where it was opened
// O_APPEND (`-o /dev/stdout >> log`), never by a new file renamed over the one behind it.
TEST_F(PathsTest, WriteFileAtomicallyWritesThroughANamedDescriptor) {
  Write("previous line\n");
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct stat before {};
  ASSERT_EQ(::stat(path_.c_str(), &before), 0);
  ASSERT_TRUE(WriteFileAtomically(absl::StrCat("/dev/fd/", fd), "appended\n").ok());
  ASSERT_TRUE(WriteFileAtomically(absl::StrCat("/proc/self/fd/", fd), "again\n").ok());
  ::close(fd);
  struct stat after {};
  ASSERT_EQ(::stat(path_.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);  // the same file, not a replacement
  EXPECT_EQ(Slurp(path_), "previous line\nappended\nagain\n");
}

// x24 #15: an output is checked before the work: an empty name, a missing directory (named).
TEST_F(PathsTest, CheckOutputPathNamesWhatIsWrongBeforeTheWork) {
  const absl::Status empty = CheckOutputPath("");
  EXPECT_TRUE(absl::IsInvalidArgument(empty)) << empty;
  EXPECT_EQ(empty.message(), "-o: empty file name");
  const absl::Status missing = CheckOutputPath("/nonexistent/dir/x.csv");
  EXPECT_TRUE(absl::IsNotFound(missing)) << missing;
  EXPECT_THAT(missing.message(),
              ::testing::HasSubstr("directory /nonexistent/dir (of /nonexistent/dir/x.csv)"));
  EXPECT_TRUE(absl::IsFailedPrecondition(CheckOutputPath(::testing::TempDir())));
  EXPECT_TRUE(CheckOutputPath(path_.string()).ok());
  EXPECT_TRUE(CheckOutputPath("/dev/stdout").ok());
  EXPECT_TRUE(CheckOutputPath("relative-file").ok());  // in the current directory
}

// x30 #4: the names written through, beside which no file (the export's manifest) is made.
TEST_F(PathsTest, IsWrittenThroughTellsDescriptorsAndDevicesFromFiles) {
  EXPECT_TRUE(IsWrittenThrough("/dev/stdout"));
  EXPECT_TRUE(IsWrittenThrough("/proc/self/fd/2"));
  EXPECT_TRUE(IsWrittenThrough("/dev/null"));
  EXPECT_FALSE(IsWrittenThrough(path_.string()));
  EXPECT_FALSE(IsWrittenThrough("/nonexistent/dir/x.csv"));  // a file to be made
  EXPECT_FALSE(IsWrittenThrough(::testing::TempDir()));      // a directory: refused, not written
}

// x27 #7: a binary finds the shipped data under its own prefix; only the build tree's binaries
// (this test is one) fall back to the source tree. An installed or copied binary without its
// data names the path it expected, never the build machine's checkout.
TEST(ShippedDataPathTest, OnlyTheBuildTreesBinariesReadTheSourceTree) {
  const std::string source = SHIXIN_TEST_SOURCE_DIR;
  EXPECT_EQ(ShippedDataPath(std::string(SHIXIN_TEST_BIN_DIR) + "/shixind", "calendar"),
            source + "/data/calendar");
  EXPECT_EQ(DefaultCatalogPath(), source + "/data/measures/hegang-2018.json");
  EXPECT_EQ(ShippedDataPath("/nonexistent/opt/bin/shixind", "measures/hegang-2018.json"),
            "/nonexistent/opt/share/shixin/measures/hegang-2018.json");
  // A copy of a build tree's binary elsewhere is no build tree's binary.
  const std::filesystem::path prefix =
      std::filesystem::path(::testing::TempDir()) / absl::StrCat("prefix.", ::getpid());
  std::filesystem::create_directories(prefix / "bin");
  EXPECT_EQ(ShippedDataPath((prefix / "bin/shixin").string(), "calendar"),
            (prefix / "share/shixin/calendar").string());
  // Nor with its data installed there.
  std::filesystem::create_directories(prefix / "share/shixin/calendar");
  EXPECT_EQ(ShippedDataPath((prefix / "bin/shixin").string(), "calendar"),
            (prefix / "share/shixin/calendar").string());
  // Without /proc: under the configured prefix (/usr by default).
  EXPECT_THAT(ShippedDataPath("", "calendar"), ::testing::EndsWith("/share/shixin/calendar"));
  std::filesystem::remove_all(prefix);
}

TEST(FileBytesTest, CopyHoldsTheText) {
  const std::string text("a\0b\nc", 5);
  const FileBytes bytes = FileBytes::Copy(text);
  EXPECT_EQ(bytes.view(), text);
  EXPECT_EQ(FileBytes::Copy("").size(), 0u);
  EXPECT_EQ(FileBytes().view(), "");
}

}  // namespace
}  // namespace shixin
