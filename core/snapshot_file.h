// Compiled snapshot files: a built Snapshot written to one binary file (`shixin compile`), and
// opened again by reading and verifying it instead of parsing the data directory. The format
// is documented byte by byte in core/SNAPSHOT_FORMAT.md: a versioned header with the snapshot's
// counts, build and source time and the identity of the measure catalog it was compiled
// against, a section table, and the snapshot's tables as page-aligned sections, each with an
// XXH3-64 checksum over the hashes of its 4 KiB blocks.
//
// Opening verifies everything before a query can see the file: magic, format version, byte
// order, header checksum, that every section lies within the file, every section's checksum
// (the multi-gigabyte case blob included), and the tables' structure (ranges monotone and
// within their tables, entity numbers in range, canonical IDs, case records back to back), so
// that no accessor of the returned Snapshot reads out of bounds, even on a crafted file. The
// hot tables (the two ID indexes, entities, names, links) are read into huge-page memory at
// open and checked there. The case tables stay in the file (and the page cache): DETAIL reads
// an entity's cases with pread in whole 4 KiB blocks and checks each block against its hash,
// kept in memory from the open (8 bytes per 4 KiB).
//
// The file should be replaced by renaming a new file over it, as WriteSnapshotFile() does: the
// open snapshot keeps reading the old file. A file truncated or rewritten in place (`cp`,
// `truncate`) cannot crash the reader or make it return other bytes: the reads of the changed
// blocks fail with DataLoss until the list is reloaded.
//
// Thread safety: the functions are reentrant; the returned Snapshot is as in snapshot.h.
#ifndef SHIXIN_CORE_SNAPSHOT_FILE_H_
#define SHIXIN_CORE_SNAPSHOT_FILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/snapshot.h"

namespace shixin {

// The format version this build writes and reads. It also reads the version before, so that a
// base compiled by the previous build keeps serving (and compacting) after an upgrade: that
// file's indexes are built again at open instead of read (SNAPSHOT_FORMAT.md, "Compatibility").
inline constexpr uint32_t kSnapshotFormatVersion = 5;
inline constexpr uint32_t kOldestSnapshotFormatVersion = 4;

// The identity of the measure catalog a snapshot file is compiled against.
struct CatalogIdentity {
  std::string id;            // Catalog::id(); at most 63 bytes are stored
  uint64_t fingerprint = 0;  // Catalog::fingerprint()
};

// What a snapshot file's header says besides the SnapshotInfo.
struct SnapshotFileHeader {
  uint32_t format_version = 0;
  int64_t write_time = 0;  // Unix seconds: when the file was written
  uint64_t file_size = 0;
  CatalogIdentity catalog;
};

// Writes `snap` to `path`: to a new file beside it first (WriteFileAtomically), fsync'ed, then
// renamed over `path` (a reader never sees a partial file). The file has mode 0644 less the
// umask, narrowed to the access of the files `access_of` (NarrowAccessTo(), core/paths.h: the
// list's source files, no file is more readable than they are) before anything is written.
// Returns the error of the first failing system call, naming the file; `path` is untouched
// then. FailedPrecondition if `snap` was opened from a file (only a built snapshot holds its
// cases in memory).
absl::Status WriteSnapshotFile(const Snapshot& snap, const CatalogIdentity& catalog,
                               const std::string& path,
                               const std::vector<std::string>& access_of = {});

// Opens and verifies the snapshot file at `path`. With `expected_catalog_fingerprint` not 0,
// the file must have been compiled against that catalog; the refusal of another one names the
// command that moves the file to it (`shixin compile --retarget`: nothing in a snapshot depends
// on the catalog but this stamp), with `catalog_path`, the expected catalog's file; with
// `catalog_path` "" (a reader that does not own the file: offline queries) it says to give the
// catalog the file was compiled against instead (moving a serving list is its owner's). Returns
//   NotFound            the file cannot be opened;
//   InvalidArgument     not a snapshot file (bad magic);
//   FailedPrecondition  another format version ("snapshot format version N, this build reads
//                       M"), the other byte order, or another catalog (both fingerprints named);
//   DataLoss            truncated ("truncated: section X ends at byte N but the file has M"),
//                       a corrupt section table, a checksum mismatch, inconsistent tables, or
//                       a read that failed ("cannot read section X, bytes N to M: " and the
//                       error, or, if the file shrank since it was opened, its size now);
//   ResourceExhausted   no memory for the hot tables.
// Every message starts with the path. `header`, if not null, receives the header on success.
// `threads` read and verify the file: 0 means one per core (at most 8); a daemon that is
// serving while it opens a new file passes fewer, to leave cores to its queries.
absl::StatusOr<std::unique_ptr<const Snapshot>> OpenSnapshotFile(
    const std::string& path, uint64_t expected_catalog_fingerprint,
    SnapshotFileHeader* header = nullptr, unsigned threads = 0,
    const std::string& catalog_path = "CATALOG");

// For tests: `hook`, unless null, runs before each piece of a section is read by an open, with
// the piece's offset in the file (a test changes the file there). Not while a file is opened.
void SetSnapshotReadHookForTesting(void (*hook)(uint64_t offset));

}  // namespace shixin

#endif  // SHIXIN_CORE_SNAPSHOT_FILE_H_
