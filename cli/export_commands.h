// `shixin export --public` (the public export, export/public_export.h) and `shixin notice`
// (the punishment notice of one receipt, notice/notice.h), both offline over a data directory.
//
// Thread safety: run from main() only.
#ifndef SHIXIN_CLI_EXPORT_COMMANDS_H_
#define SHIXIN_CLI_EXPORT_COMMANDS_H_

#include <string>
#include <vector>

namespace shixin {

// export --public -o FILE --format ndjson|csv [--data DIR] [--manifest M | --no-manifest]: every
// subject listed now, its public fields (export/public_export.h). "-o -" writes to standard
// output. Once the export is whole, its manifest (ManifestJson()) is written to M, by default
// FILE.manifest.json beside -o FILE (none for standard output or a descriptor's name), replaced
// atomically too. Returns the exit status: 0 ok, 2 usage error, 3 the data could not be loaded or
// the file or its manifest written (no manifest is left that describes another file).
int RunExport(const std::vector<std::string>& args);

// notice --receipt R --audit DIR --format html|txt [-o FILE] [--data DIR] [--callers FILE]
// [--catalog FILE]: the punishment notice of the MEASURES answer of receipt R. Returns the exit
// status: 0 ok, 2 usage error, 3 the audit, data, callers or catalog could not be read, the
// receipt was not found or is not of a notice, or the file could not be written.
int RunNotice(const std::vector<std::string>& args);

}  // namespace shixin

#endif  // SHIXIN_CLI_EXPORT_COMMANDS_H_
