#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

let usage = """
  usage: credit-bench [options]

  Drives the release credit-rpc binary through pipes, as its users do, and prints each figure of
  issue 7 (the median of several runs) beside its target. Progress goes to stderr; the table (or
  with --json, one JSON object) to stdout.

    --bin PATH           the credit-rpc binary (default: credit-rpc beside credit-bench)
    --data DIR           where generated databases are cached (default .build/bench-data)
    --db URI             measure on PostgreSQL: a server URI (postgresql://user@host:port/db);
                         the bench creates a database per dataset (bench_learners_N, kept for
                         later runs) and per throwaway run (bench_tmp_..., dropped) through
                         psql. Smaller defaults, as populating through the service is slower:
                         --learners 20000, --small 2000, --large 100000 (--quick: 10000,
                         2000, 20000)
    --psql PATH          the psql client for --db (default: psql in PATH)
    --runs N             runs per figure; each figure is their median (default 5; --quick 3)
    --quick              a small CI-sized run: fewer requests and runs, 100,000 learners as the
                         large database
    --json               print the results as JSON instead of a table
    --only LIST          only these figures, e.g. 1,3,5 (1 cold start, 2 piped throughput,
                         3 interactive latency, 4 group commit, 5 scaling, 6 peak memory,
                         7 write scaling, 8 operators' lists, 9 writers scaling)
    --writers LIST       process counts of figure 9 (default 1,2,4)
    --writer-learners N  learners whose journey each process of figure 9 pipes (default 1000;
                         --quick 300)
    --learners N         learners in the database of figures 1, 2b, 3 and 6 (default 100000)
    --small N            the small database of figures 5, 7 and 8 (default 10000)
    --large N            the large database of figures 5, 7 and 8 (default 1000000; --quick 100000)
    --writes N           new learners per run of figure 7, each sending enroll, recordGrade,
                         purchaseCredit and submitProviderDecision one at a time (default 200;
                         --quick 50)
    --journey N          learners through the journey of figure 2a (default 2000; --quick 300)
    --commit-learners N  learners through the journey of figure 4, piped and one request at a
                         time (default 300; --quick 100)
    --reads N            read-mix requests of figure 2b (default 100000; --quick 10000)
    --latency N          requests timed one at a time in figures 3 and 5 (default 2000;
                         --quick 500)
    --stream N           read requests streamed for peak memory, figure 6 (default 1000000;
                         --quick 100000); compared with a stream a tenth as long
    --pin-latency        run figures 3 and 5 with the bench and the service on one CPU: leaves
                         out the virtual machine's cost of waking the other CPU (often
                         0.05-0.1 ms a round trip on these machines); off by default, as users'
                         processes are not pinned
    --stream-runs N      runs of the long stream (default: the smaller of --runs and 3; --quick 1)
    --seed N             seed of every generated workload (default 42)
    --sqlite3 PATH       the sqlite3 shell for figure 1 (default: sqlite3 in PATH)
    --emit DIR           write the generated request files (population, journey, read mix) to
                         DIR, for piping into credit-rpc by hand or under a profiler, and exit
    --rebuild            rebuild the cached databases even when they look current
    --keep-temp          keep the temporary journey databases (for inspection)
    --help               print this help and exit

  """

struct Options {
  var bin: String?
  var data = ".build/bench-data"
  var runs = 5
  var quick = false
  var json = false
  var only: Set<Int> = [1, 2, 3, 4, 5, 6, 7, 8, 9]
  /// `--db`: a PostgreSQL server, or nil for SQLite files in `data`.
  var server: String?
  var psql = "psql"
  /// Process counts of figure 9, and the learners each one pipes.
  var writers = [1, 2, 4]
  var writerLearners = 1_000
  /// Rounds of figure 8 (each sends the four operators' lists one at a time).
  var operatorRounds = 200
  /// New learners per run of figure 7 (each sends the four timed writes one at a time).
  var writes = 200
  var learners = 100_000
  var small = 10_000
  var large = 1_000_000
  var journey = 2_000
  var commitLearners = 300
  var reads = 100_000
  var latency = 2_000
  var stream = 1_000_000
  var streamRuns: Int?
  var seed: UInt64 = 42
  var sqlite3 = "sqlite3"
  var rebuild = false
  var keepTemp = false
  var emit: String?
  var pinLatency = false
  /// The command line, for the report.
  var command = ""

  var longStreamRuns: Int { streamRuns ?? (quick ? 1 : min(runs, 3)) }
  var streamBase: Int { max(1, stream / 10) }
}

func usageError(_ message: String) -> Never {
  writeStderr("credit-bench: \(message)\n\n\(usage)")
  exit(2)
}

func parseOptions(_ args: [String]) -> Options {
  var o = Options()
  o.command = (["credit-bench"] + args).joined(separator: " ")
  // --quick first, so that explicit values given with it win.
  if args.contains("--quick") {
    o.quick = true
    o.runs = 3
    o.large = 100_000
    o.journey = 300
    o.commitLearners = 100
    o.reads = 10_000
    o.latency = 500
    o.stream = 100_000
    o.writes = 50
    o.operatorRounds = 50
    o.writerLearners = 300
  }
  // PostgreSQL: datasets of modest size, unless given.
  if args.contains("--db") {
    o.learners = o.quick ? 10_000 : 20_000
    o.small = 2_000
    o.large = o.quick ? 20_000 : 100_000
  }
  var i = 0
  func value(_ flag: String) -> String {
    i += 1
    guard i < args.count else { usageError("\(flag) needs a value") }
    return args[i]
  }
  func count(_ flag: String, min: Int = 1) -> Int {
    let v = value(flag).replacingUnderscores()
    guard let n = Int(v), n >= min else {
      usageError("\(flag) takes a whole number of at least \(min), not '\(v)'")
    }
    return n
  }
  while i < args.count {
    let flag = args[i]
    switch flag {
    case "--help", "-h":
      print(usage, terminator: "")
      exit(0)
    case "--bin": o.bin = value(flag)
    case "--data": o.data = value(flag)
    case "--runs": o.runs = count(flag)
    case "--quick": break
    case "--json": o.json = true
    case "--only":
      let v = value(flag)
      let figures = v.split(separator: ",").map { Int(String($0).trimmingSpaces()) }
      guard !figures.isEmpty, figures.allSatisfy({ $0 != nil && (1...9).contains($0!) }) else {
        usageError("--only takes figure numbers 1 to 9 separated by commas, not '\(v)'")
      }
      o.only = Set(figures.map { $0! })
    case "--db":
      let v = value(flag)
      guard v.hasPrefix("postgresql://") || v.hasPrefix("postgres://") else {
        usageError("--db takes a PostgreSQL server URI (postgresql://...), not '\(v)'; SQLite is the default")
      }
      o.server = v
    case "--psql": o.psql = value(flag)
    case "--writers":
      let v = value(flag)
      let counts = v.split(separator: ",").map { Int(String($0).trimmingSpaces()) }
      guard !counts.isEmpty, counts.allSatisfy({ $0 != nil && $0! >= 1 }) else {
        usageError("--writers takes process counts separated by commas, not '\(v)'")
      }
      o.writers = Array(Set(counts.map { $0! })).sorted()
    case "--writer-learners": o.writerLearners = count(flag)
    case "--learners": o.learners = count(flag, min: 10)
    case "--small": o.small = count(flag, min: 10)
    case "--large": o.large = count(flag, min: 10)
    case "--journey": o.journey = count(flag)
    case "--commit-learners": o.commitLearners = count(flag)
    case "--reads": o.reads = count(flag, min: 2)
    case "--latency": o.latency = count(flag)
    case "--writes": o.writes = count(flag)
    case "--stream": o.stream = count(flag, min: 10)
    case "--stream-runs": o.streamRuns = count(flag)
    case "--seed": o.seed = UInt64(count(flag, min: 0))
    case "--sqlite3": o.sqlite3 = value(flag)
    case "--emit": o.emit = value(flag)
    case "--pin-latency": o.pinLatency = true
    case "--rebuild": o.rebuild = true
    case "--keep-temp": o.keepTemp = true
    default: usageError("unknown argument '\(flag)'")
    }
    i += 1
  }
  return o
}

extension String {
  func replacingUnderscores() -> String { String(filter { $0 != "_" && $0 != "," }) }
  func trimmingSpaces() -> String {
    var s = Substring(self)
    while s.first == " " { s.removeFirst() }
    while s.last == " " { s.removeLast() }
    return String(s)
  }
}

/// The folder of the running executable (from /proc/self/exe).
func executableFolder() -> String? {
  var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
  let n = readlink("/proc/self/exe", &buffer, Int(PATH_MAX))
  guard n > 0 else { return nil }
  let path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  guard let slash = path.lastIndex(of: "/") else { return nil }
  return String(path[..<slash])
}

/// `mkdir -p`.
func makeFolders(_ path: String) {
  var prefix = path.hasPrefix("/") ? "" : "."
  for part in path.split(separator: "/") {
    prefix += "/" + part
    mkdir(prefix, 0o755)
  }
}
