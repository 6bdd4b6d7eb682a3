// shixin: the command-line tool. Offline mode loads a data directory into its own process.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "base/version.h"
#include "cli/audit_commands.h"
#include "cli/caller_commands.h"
#include "cli/commands.h"
#include "cli/delta_commands.h"
#include "cli/export_commands.h"
#include "cli/feedback_command.h"
#include "cli/report_commands.h"

namespace {

constexpr char kUsage[] = R"(usage: shixin COMMAND [FLAGS] [ID...]

Queries the list of dishonest judgment debtors (失信被执行人名单).

commands (offline with --data DIR or --snapshot FILE, and --deltas DIR, or against a daemon with
--server HOST:PORT):
  check    [--json] --data DIR ID...    is each ID listed? kind, name, cases, roles
  detail   (the same as check)
  measures [--json] --data DIR [--agency A] [--scenario S] [--officer ROLE=ID]... ID...
                                         the measures that apply to each subject, and why
  catalog  [--json] [--catalog FILE]   the measure catalog: agencies and scenarios (the values
                                         of --agency and --scenario) and every measure; with
                                         --server HOST:PORT, the catalog the daemon serves
  info     [--json] --server HOST:PORT  the daemon's snapshot, counts, reload status, its
                                         security (mode, the caller, per-caller counters) and
                                         audit (state, records, next report due)
  feedback --server HOST:PORT --receipt R [--operator O] [--applied N]...
           [--not-applied N=REASON]... [--cancel N=REASON]... [--json]
                                         report what was done with each measure N of the
                                         answer with receipt R (a reason is required for
                                         not applied and cancelled measures)
  reload   --server HOST:PORT [--allow-shrink]
                                         make the daemon reload its list and wait for the
                                         outcome (admin); --allow-shrink accepts a list that
                                         removes more subjects or relations than the daemon's
                                         max_shrink, or goes back to an earlier delta;
                                         exit 4 if a delta file is still refused or missing
  gen      --subjects N [--seed S] --out DIR [--deltas N [--changes-per-delta K]]
           [--today YYYYMMDD]            write a deterministic synthetic data set, exported
                                         on --today [the current day; 2024-01-01 to
                                         2089-12-31], 0.3 % of its cases in their grace
                                         period (published 1-3 months later); with
                                         --deltas, also N delta files of K changes [1000]
                                         each in DIR/deltas (one per Monday to Friday after
                                         it, holidays not skipped); delta files of an
                                         earlier run in DIR/deltas are removed first
  compile  --data DIR -o FILE [--catalog FILE] [--max-errors N] [--allow-empty]
           [--delta-sequence N]          write the list as a snapshot file for shixind
                                         --snapshot (compiled against the catalog; a file,
                                         never "-o -", standard output); an empty
                                         list is refused, nothing written (shixind never
                                         serves one), unless --allow-empty (a test's file);
                                         --delta-sequence: the last delta file a full
                                         re-issue contains [0]: only later ones apply on it
  compile  --snapshot FILE|[--data] DIR --deltas DIR -o FILE [--history-days N]
           [--delta-settle-ms MS]        fold the delta files into a new base snapshot
                                         (compaction; keeps N days of history [1826]);
                                         waits until no delta file has changed for MS
                                         [1000], as shixind; one changing for 60 s is
                                         left, and those after it, for the next run;
                                         --snapshot without --deltas writes the base again
                                         in this build's snapshot format
  compile  --snapshot FILE --catalog FILE --retarget -o FILE
                                         move a base compiled against another catalog (an
                                         upgrade revised the shipped one) to --catalog: the
                                         same list, its delta sequence and all its history
                                         (unless --history-days); --deltas folded if given
  delta check [--snapshot FILE | --data DIR] [--deltas DIR] [--max-delta-mb N] FILE...
                                         delta files checked before they are pushed, as
                                         shixind takes them: each parsed whole and its size
                                         checked [256 MB]; with a base (and the files applied
                                         on it already), applied after it in sequence order;
                                         notes: lines that change nothing, and changes
                                         reported over 72 h after their `at`. A key its op
                                         does not use refuses a line.
                                         Exit 1 if shixind would refuse one or make it wait
                                         (a gap, a file of --deltas it refuses)
  caller add --file F --id ID --name N --sector S --scopes check,measures,...
           --view full|masked --rate R --burst B [--agencies A,..] [--scenarios S,..]
           [--certificate sha256:HEX|cn:NAME]...
                                         add a caller to shixind's callers file F (created
                                         if missing) and print its new token, once
  caller token --file F --id ID [--replace]
                                         a new token for a caller (--replace: its only one)
  caller list --file F [--json]          the callers (never their token hashes)
  caller remove --file F --id ID         remove a caller
  audit verify DIR [--retention-days N] [--json]
                                         check the audit in DIR (state_dir/audit): checksums,
                                         the hash chain, sequence, times; counts. Exit 1 on
                                         problems (with N: segments removed before retention)
  audit query DIR (--subject ID | --caller X | --receipt R) [--from YYYY-MM-DD]
           [--to YYYY-MM-DD] [--json]    the audit records of a subject, caller or receipt
                                         (a receipt's feedback too), one per line; dates in
                                         China time, --to inclusive
  report   --audit DIR --quarter YYYYQN [--caller X] [--format csv|json|html] [-o FILE]
           [--calendar DIR] [--catalog FILE]
                                         the quarterly report of an audit directory: per
                                         caller and agency, queries, hits, measures and the
                                         feedback on them; its due date from the holiday
                                         calendar [the shipped one: share/shixin/calendar
                                         beside the binary's bin/, /usr/share/shixin/calendar
                                         when installed; --calendar DIR's years add to it]
                                         (format: html)
  export   --public -o FILE --format ndjson|csv (--data DIR | --snapshot FILE)
           [--deltas DIR] [--catalog FILE] [--manifest M | --no-manifest]
                                         what the public may see of every subject listed now:
                                         names, persons' IDs masked, organisations' codes and
                                         legal representatives' names, cases (court, number,
                                         dates, conduct, performance); "-o -": standard output.
                                         The list as the daemon has it: its base and deltas
                                         (removed and revoked cases are not published); a
                                         list empty now (its deltas unlisting everyone too)
                                         is refused, exit 3, nothing written. Then a JSON
                                         manifest (as-of instant, list version and delta
                                         sequence, rows, bytes, SHA-256) to M, by default
                                         FILE.manifest.json beside -o FILE
  notice   --receipt R --audit DIR --format html|txt (--data DIR | --snapshot FILE)
           [--deltas DIR] [-o FILE] [--issuer NAME | --callers FILE] [--catalog FILE]
                                         the punishment notice (惩戒告知书) of the MEASURES
                                         answer of receipt R (none if it returned no measure,
                                         or the caller reported none applied): the issuing
                                         unit (--issuer, or the caller's name in --callers;
                                         else left blank), the subject, why each measure
                                         applies and the cases behind it (as of the answer's
                                         instant, later changes flagged), the measures (only
                                         those reported applied, if the caller gave feedback),
                                         how to object; HTML printable on A4 [standard output].
                                         The list as the daemon had it: its base and deltas
  help                                   this text
  version                                print shixin/VERSION (also --version): the version
                                         shixind --version prints for the same build

flags:
  --data DIR        directory holding debtors.ndjson and relations.ndjson
  --snapshot FILE   check, measures, export, notice: a compiled snapshot instead (shixin compile)
  --deltas DIR      with --data or --snapshot: the delta files applied on it, as shixind
                    applies them (history and revocations for --as-of)
  --server H:P      ask a running shixind instead (e.g. 127.0.0.1:7411, [::1]:7411): its
                    binary listen port, not http_listen. The flags below up to --fail-stale
                    need it (a usage error without it)
  --timeout-ms N    per-request timeout in server mode [5000], its waits included: a caller
                    over its rate waits out RATE_LIMITED as the server says only while the
                    request still ends within N, else it fails (exit 5)
  --caller ID       server mode: authenticate as caller ID, with the token read from
                    --token-file FILE (its first line) or the environment variable
                    SHIXIN_TOKEN (never on the command line: ps shows it)
  --token-file FILE the caller's token (a leading byte order mark, spaces, CR ignored)
  --tls             speak TLS to --server, verifying its certificate (and its name or IP)
  --ca FILE         with --tls: PEM CAs that sign the server's certificate [the system's]
  --cert FILE       with --tls: a client certificate (PEM) for mutual TLS, with --key FILE
  --no-retry        server mode: do not ask CHECK, MEASURES or DETAIL again on a new connection
                    after the connection was lost (by default they are, once; never FEEDBACK)
  --no-going-back   server mode: refuse an answer from an older list than one already seen
                    (replicas behind a balancer; asked once more elsewhere first; docs/replicas.md)
  --fail-stale      check, measures with --server: exit 4 if an answer came from a stale list
                    (older than the daemon's max_age_seconds; without it, exit 0). Either way
                    a warning once on stderr, and --json answers end "stale":true,"generation":N
  --max-errors N    bad input lines tolerated before the load fails [0]; stderr names the
                    first 100 and says how many in all; a file cut short fails regardless
  --catalog FILE    the measure catalog [the shipped Hegang 2018 memorandum: hegang-2018.json
                    in share/shixin/measures beside the binary's bin/]
  --agency A        only measures of this agency (id or name, e.g. housing)
  --scenario S      only measures governing this scenario (e.g. hotel, bank_credit)
  --officer R=ID    an officer of the queried organisation (repeatable, at most 16:
                    MEASURES' limit), R one of
                    legal_representative principal actual_controller directly_responsible
                    director supervisor senior_manager
  --as-of T         check, detail, measures: answer as the list stood at instant T, RFC 3339
                    (2026-06-03T10:00:00+08:00), within the last 1826 days (the daemon's
                    history_days with --server)
  --matter M        check, measures with --server: the matter code the query is for; with
                    --operator O (the operator's id) and --purpose TEXT, recorded by the
                    daemon's audit; the answer then shows its receipt (check asks CHECK)
  --json            one JSON object per queried ID
  -o FILE           compile, export, report, notice: written to a new file beside FILE,
                    unnamed until whole (else FILE.tmp.XXXXXXXX), then renamed over it; mode
                    0600 for report and notice, 0644 for export (less the umask).
                    /dev/stdout, /dev/stderr, /dev/fd/N are written through the descriptor
                    (`-o /dev/stdout >> log` appends), a FIFO or device too. An empty FILE
                    (exit 2), a missing or unwritable directory (exit 3) are refused before
                    any work; a write past `ulimit -f` is exit 3 ("File too large")
  --help            (after COMMAND) that command's usage

IDs: 18-digit resident IDs (15-digit old IDs are converted), unified social credit codes,
9-character organisation codes, optionally grouped as printed ("230402 19720314 0038",
"91 110000 600037341L", "55269853-1"). With no ID, or "-", IDs are read from standard input,
one per line, after the IDs given: as they come, up to 4096 at a time, each answered before
more is read (a line typed or piped in is answered at once); a line over 4096 bytes is refused.
Blank lines are skipped, so an invalid one is named by its line ("line" in its JSON object,
"line N:" in text, "shixin: stdin:N: ..." on stderr), as is where a run stopped.
Text output (a txt notice too) writes control characters in names and reasons escaped (\n,
\x1b, \u2028), one record per line.

exit status, the same for every command:
  0  ok
  1  an ID was invalid or a check failed (delta check: a file shixind would refuse; audit
     verify: problems); a receipt with no record (audit query, notice, feedback), a feedback
     the daemon refused
  2  usage error (also a server-mode flag without --server, a number flag's bad value, a
     request over the server's limits, e.g. --matter/--operator/--purpose over its
     max_payload: refused unsent)
  3  local data, catalog, audit or input could not be read (or the output not written);
     reload: the daemon refused the new list (RELOAD_FAILED)
  4  the server's list is out of date: --fail-stale with a stale answer, STALE_REFUSED,
     --no-going-back; reload: a delta file is refused or missing, the files after it wait
  5  the server could not be reached or did not answer: connection refused, TLS, timeout,
     connection lost, not the binary port, BUSY, UNAVAILABLE, RATE_LIMITED with a wait
     beyond --timeout-ms (a batch says where it stopped)
  6  the server refused the caller: UNAUTHENTICATED, PERMISSION_DENIED
)";

// Returns the lines of kUsage about `command` (its entries and their continuation lines), or
// "" for an unknown command.
std::string UsageOf(std::string_view command) {
  std::string out;
  bool in = false;
  std::string_view rest = kUsage;
  while (!rest.empty()) {
    const size_t end = std::min(rest.find('\n'), rest.size());
    const std::string_view line = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    if (line.starts_with("  ") && !line.starts_with("   ")) {  // an entry: "  check ..."
      std::string_view name = line.substr(2);
      name = name.substr(0, name.find(' '));
      in = name == command;
    } else if (!line.starts_with("   ")) {
      in = false;
    }
    if (in) out.append(line).append("\n");
  }
  if (out.empty()) return out;
  return "usage: shixin " + std::string(command) + " ...\n\n" + out +
         "\nflags, IDs and exit status: shixin help\n";
}

// Runs `command`; returns its exit status.
int Run(const std::string& command, const std::vector<std::string>& args) {
  if (command == "check" || command == "detail") return shixin::RunCheck(args);
  if (command == "info") return shixin::RunInfo(args);
  if (command == "catalog") return shixin::RunCatalog(args);
  if (command == "reload") return shixin::RunReload(args);
  if (command == "measures") return shixin::RunMeasures(args);
  if (command == "feedback") return shixin::RunFeedback(args);
  if (command == "gen") return shixin::RunGen(args);
  if (command == "compile") return shixin::RunCompile(args);
  if (command == "delta") return shixin::RunDelta(args);
  if (command == "caller") return shixin::RunCaller(args);
  if (command == "audit") return shixin::RunAudit(args);
  if (command == "report") return shixin::RunReport(args);
  if (command == "export") return shixin::RunExport(args);
  if (command == "notice") return shixin::RunNotice(args);
  std::fprintf(stderr, "shixin: unknown command \"%s\"\n%s", command.c_str(), kUsage);
  return shixin::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // A write past `ulimit -f` fails with EFBIG, which the file's error path reports (exit 3,
  // "FILE: write: File too large"), instead of killing the process without a word (exit 153).
  std::signal(SIGXFSZ, SIG_IGN);
  if (argc == 2 &&
      (std::strcmp(argv[1], "version") == 0 || std::strcmp(argv[1], "--version") == 0)) {
    std::printf("shixin/%s\n", std::string(shixin::Version()).c_str());
    return std::fflush(stdout) == 0 ? shixin::kExitOk : shixin::kExitLoad;
  }
  if (argc < 2 || std::strcmp(argv[1], "help") == 0 || std::strcmp(argv[1], "--help") == 0 ||
      std::strcmp(argv[1], "-h") == 0) {
    // "shixin help check": that command's lines.
    const std::string usage = argc > 2 ? UsageOf(argv[2]) : "";
    std::fputs(usage.empty() ? kUsage : usage.c_str(), argc < 2 ? stderr : stdout);
    return argc < 2 ? shixin::kExitUsage : shixin::kExitOk;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  int status;
  // --help anywhere ("shixin caller add --help", "shixin check --data d --help") asks for usage.
  const bool help = std::any_of(args.begin(), args.end(),
                                [](const std::string& a) { return a == "--help" || a == "-h"; });
  if (help && !UsageOf(command).empty()) {
    std::fputs(UsageOf(command).c_str(), stdout);
    status = shixin::kExitOk;
  } else {
    status = Run(command, args);
  }
  // Output lost to a full disk or a closed file is a failure, not a silent success.
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    std::fprintf(stderr, "shixin %s: cannot write to standard output: %s\n", command.c_str(),
                 std::strerror(errno));
    return shixin::kExitLoad;
  }
  return status;
}
