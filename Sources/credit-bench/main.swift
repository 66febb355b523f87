// credit-bench: the figures of issue 7, measured by driving the release credit-rpc binary through
// pipes as its users do. See Benchmarks/README.md.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

func main() -> Int32 {
  signal(SIGPIPE, SIG_IGN)
  let options = parseOptions(Array(CommandLine.arguments.dropFirst()))
  let started = monotonicNanos()

  guard let binary = options.bin ?? executableFolder().map({ "\($0)/credit-rpc" }) else {
    writeStderr("credit-bench: cannot find credit-rpc; pass --bin PATH\n")
    return 2
  }
  guard access(binary, X_OK) == 0 else {
    writeStderr(
      "credit-bench: \(binary) is not an executable; build it (swift build -c release) or pass --bin PATH\n")
    return 2
  }
  if options.emit != nil {
    do {
      for path in try emitRequestFiles(options) { print(path) }
      return 0
    } catch {
      writeStderr("credit-bench: \(error)\n")
      return 1
    }
  }
  makeFolders(options.data)
  let loadAtStart = loadAverage()

  do {
    let version = try capture(binary, ["--version"]).output.trimmingSpaces().filter { $0 != "\n" }
    let sqliteVersion =
      try capture(options.sqlite3, ["--version"]).output.split(separator: " ").first.map(String.init) ?? "?"
    let engine: Engine =
      options.server.map { .postgresql(server: $0, psql: options.psql) } ?? .sqlite(folder: options.data)
    var serverSettings = ""
    if engine.isPostgreSQL {
      serverSettings = try engine.sql(
        "SELECT 'PostgreSQL ' || current_setting('server_version') || '; fsync=' || current_setting('fsync') "
          + "|| ', synchronous_commit=' || current_setting('synchronous_commit') "
          + "|| ', synchronous_standby_names=' || quote_literal(current_setting('synchronous_standby_names'))"
          + " || ', sync standbys: ' || (SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync')"
      ).filter { $0 != "\n" }
    }
    let service = Service(binary: binary, clock: World.testClock)
    let data = Datasets(
      folder: options.data, engine: engine, service: service, sqlite3: options.sqlite3, seed: options.seed,
      rebuild: options.rebuild)
    let bench = Bench(options: options, service: service, data: data)
    try bench.runAll()

    var settings: [(String, String)] = [
      ("machine", "\(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs; sqlite3 \(sqliteVersion)"),
      (
        "load average (1 min) at start and end",
        "\(loadAtStart) and \(loadAverage()) (other work on the machine adds noise)"
      ),
      (
        "workload",
        "seed \(options.seed), --test-clock \(World.testClock), synchronous=FULL (always, in the service)"
      ),
    ]
    if engine.isPostgreSQL {
      settings.append(
        ("engine", "\(serverSettings) (--db, on the server of \(redactedServer(options.server!)))"))
    } else {
      settings.append(("engine", "SQLite files in \(options.data)"))
    }
    if options.pinLatency, !options.only.isDisjoint(with: [3, 5]) {
      settings.append(("latency (figures 3, 5)", "bench and service pinned to CPU 0 (--pin-latency)"))
    }
    if options.only.contains(6) {
      settings.append(
        ("runs of the \(formatCount(options.stream))-request stream", String(options.longStreamRuns)))
    }
    settings += bench.notes
    let built = Dictionary(data.builds.map { ($0.learners, $0.seconds) }, uniquingKeysWith: { a, _ in a })
    let report = Report(
      command: options.command, binary: binary, version: version, settings: settings, rows: bench.rows,
      datasets: bench.used.keys.sorted().map { n in
        (n, bench.used[n]!, engine.size(Datasets.name(learners: n)), built[n])
      },
      seconds: Double(monotonicNanos() - started) / 1e9)
    print(options.json ? report.json() : report.table(), terminator: "")
    return 0
  } catch {
    writeStderr("credit-bench: \(error)\n")
    return 1
  }
}

/// A server URI without a password (user:password@ becomes user@).
func redactedServer(_ uri: String) -> String {
  let chars = Array(uri)
  guard let at = chars.firstIndex(of: "@"), let slashes = uri.indexOfScheme() else { return uri }
  guard let colon = chars[slashes..<at].firstIndex(of: ":") else { return uri }
  return String(chars[..<colon]) + String(chars[at...])
}

/// The 1-minute load average, from /proc/loadavg.
func loadAverage() -> String {
  readText("/proc/loadavg")?.split(separator: " ").first.map(String.init) ?? "?"
}

exit(main())
