// The report command of the shixin tool (issue 12): the quarterly report of an audit directory
// (report/quarterly.h), as CSV, JSON or printable HTML.
//
// Thread safety: run from main() only.
#ifndef SHIXIN_CLI_REPORT_COMMANDS_H_
#define SHIXIN_CLI_REPORT_COMMANDS_H_

#include <string>
#include <vector>

namespace shixin {

// report --audit DIR --quarter YYYYQN [--caller X] --format csv|json|html [-o FILE]
// [--calendar DIR] [--catalog FILE]. Returns kExitOk, kExitUsage for bad flags, kExitLoad when
// the catalog or the audit cannot be read or the output cannot be written. A calendar that
// cannot be loaded or lacks the year is not fatal: the report says so where the due date goes.
int RunReport(const std::vector<std::string>& args);

}  // namespace shixin

#endif  // SHIXIN_CLI_REPORT_COMMANDS_H_
