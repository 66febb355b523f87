#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The six figures of issue 7, the write scaling of issue 10 (figure 7) and the operators' lists of
/// issue 14 (figure 8), each measured `runs`
/// times and reported as the median.
final class Bench {
  let o: Options
  let service: Service
  let data: Datasets
  var rows: [Row] = []
  private(set) var notes: [(String, String)] = []
  /// Peak RSS of the read-mix runs of figure 2b, reused by figure 6 when the lengths agree.
  private var readMixPeaks: [Double] = []
  /// Database files used, by learner count.
  private(set) var used: [Int: String] = [:]

  /// Unanswered requests that warm a process up before its timed part.
  static let warmupRequests = 200
  /// Spawns of each program per run of figure 1.
  static let spawnsPerRun = 15

  init(options: Options, service: Service, data: Datasets) {
    self.o = options
    self.service = service
    self.data = data
  }

  func population(_ learners: Int) throws -> String {
    let path = try data.population(learners)
    used[learners] = path
    warmPageCache(path)
    return path
  }

  var engine: Engine { data.engine }

  /// The name of a throwaway database.
  func tempName(_ name: String, _ run: Int) -> String { "tmp-\(name)-\(getpid())-\(run)" }

  /// A new, empty throwaway database (a file, or a database on the server); its `--db` value.
  func tempDatabase(_ name: String, _ run: Int) throws -> String {
    try engine.fresh(tempName(name, run))
  }

  func discard(_ name: String, _ run: Int) {
    if !o.keepTemp { try? engine.remove(tempName(name, run)) }
  }

  private func line(_ write: (inout [UInt8]) -> Void) -> [UInt8] {
    var out: [UInt8] = []
    write(&out)
    return out
  }

  /// `count` getRequirements lines over learners drawn uniformly from a population.
  func getRequirementsLines(_ count: Int, population: Int, _ rng: inout SeededRandom, firstId: Int)
    -> [[UInt8]]
  {
    (0..<count).map { i in
      let learner = rng.below(population)
      return line { Requests.getRequirements(&$0, id: firstId + i, learner: learner) }
    }
  }

  func runAll() throws {
    if o.only.contains(1) { try figure1() }
    if o.only.contains(2) { try figure2() }
    if o.only.contains(3) { try figure3() }
    if o.only.contains(4) { try figure4() }
    if o.only.contains(5) { try figure5() }
    if o.only.contains(6) { try figure6() }
    if o.only.contains(7) { try figure7() }
    if o.only.contains(8) { try figure8() }
    if o.only.contains(9) { try figure9() }
  }

  // MARK: 1. Cold start

  /// Queries comparable to getRequirements, most faithful first; the first the file answers is used.
  private func sqliteQueries(learner: Int) -> [String] {
    let l = World.learnerId(learner)
    let c = World.courseId
    return [
      "SELECT e.mode, e.eligibility, r.requirement_id, r.kind, r.display_name, r.position, r.min_grade, s.status, "
        + "s.reason, s.updated_at FROM enrollments e JOIN requirements r ON r.course_id = e.course_id "
        + "LEFT JOIN requirement_status s ON s.learner_id = e.learner_id AND s.course_id = e.course_id "
        + "AND s.requirement_id = r.requirement_id WHERE e.learner_id = '\(l)' AND e.course_id = '\(c)' "
        + "ORDER BY r.position;",
      "SELECT * FROM enrollments WHERE learner_id = '\(l)' AND course_id = '\(c)';",
      "SELECT count(*) FROM sqlite_master;",
      "SELECT count(*) FROM pg_class;",
    ]
  }

  func figure1() throws {
    let db = try population(o.learners)
    var rng = SeededRandom.stream(o.seed, 10)
    let shell = engine.isPostgreSQL ? "psql -c" : "sqlite3"
    /// The shell answering one query: sqlite3 on the file, or psql -c on the server.
    func oneQuery(_ sql: String) throws -> UInt64 {
      if case .postgresql(_, let psql) = engine { return try psqlOneQuery(psql, uri: db, sql: sql) }
      return try sqliteOneQuery(o.sqlite3, db: db, sql: sql).nanos
    }
    var choice = 0
    while true {
      guard choice < sqliteQueries(learner: 0).count else {
        throw BenchError("no \(shell) query works on \(db)")
      }
      if (try? oneQuery(sqliteQueries(learner: 0)[choice])) != nil { break }
      choice += 1
    }
    notes.append(("\(shell) query (figure 1)", sqliteQueries(learner: 0)[choice]))
    func rpcLine(_ learner: Int) -> [UInt8] {
      line { Requests.getRequirements(&$0, id: 1, learner: learner) }
    }
    for _ in 0..<2 {  // untimed: fill the page cache and the dynamic loader's caches
      _ = try service.coldStart(db: db, line: rpcLine(rng.below(o.learners)))
      _ = try oneQuery(sqliteQueries(learner: rng.below(o.learners))[choice])
    }
    var rpc: [Double] = []
    var rpcExit: [Double] = []
    var sql: [Double] = []
    for run in 1...o.runs {
      var a: [Double] = []
      var b: [Double] = []
      var c: [Double] = []
      for _ in 0..<Self.spawnsPerRun {
        let learner = rng.below(o.learners)
        let (first, exited) = try service.coldStart(db: db, line: rpcLine(learner))
        a.append(Double(first) / 1e6)
        b.append(Double(exited) / 1e6)
        c.append(Double(try oneQuery(sqliteQueries(learner: learner)[choice])) / 1e6)
      }
      rpc.append(median(a))
      rpcExit.append(median(b))
      sql.append(median(c))
      progress(
        "figure 1, run \(run)/\(o.runs): credit-rpc \(fixed(rpc.last!, 2)) ms, \(shell) \(fixed(sql.last!, 2)) ms"
      )
    }
    let ratio = median(rpc) / median(sql)
    rows.append(
      Row(
        figure: "1", key: "coldStart.creditRpc",
        label:
          "cold start: credit-rpc, spawn to 1st getRequirements answer, \(formatCount(o.learners)) learners",
        value: median(rpc), unit: "ms", samples: rpc,
        target: Target(text: "<= 2x \(shell)", ratio: ratio, bound: 2, direction: .atMost),
        extra: [("spawnToExitMs", median(rpcExit))]))
    rows.append(
      Row(
        figure: "1", key: "coldStart.sqlite3",
        label: "cold start: \(shell), one comparable SELECT, spawn to exit",
        value: median(sql), unit: "ms", samples: sql))
  }

  // MARK: 2. Piped throughput

  func figure2() throws {
    var journey: [Double] = []
    var journeyCPU = CPUTally()
    for run in 1...o.runs {
      let db = try tempDatabase("journey", run)
      let r = try service.piped(
        db: db, setup: Requests.setup(),
        source: JourneySource(learners: o.journey, seed: o.seed, firstId: 10),
        what: "figure 2a")
      discard("journey", run)
      journey.append(r.rate)
      journeyCPU.add(r)
      progress("figure 2a, run \(run)/\(o.runs): journey \(formatCount(Int(r.rate))) req/s")
    }
    rows.append(
      Row(
        figure: "2a", key: "piped.journey",
        label: "piped journey: \(formatCount(o.journey)) learners x 7 requests, new file",
        value: median(journey), unit: "req/s", samples: journey))
    rows.append(journeyCPU.row(figure: "2a", key: "piped.journey.cpu", what: "journey"))

    let db = try population(o.learners)
    var rng = SeededRandom.stream(o.seed, 20)
    let warmup = getRequirementsLines(Self.warmupRequests, population: o.learners, &rng, firstId: 1)
    var reads: [Double] = []
    var readCPU = CPUTally()
    readMixPeaks = []
    for run in 1...o.runs {
      let r = try service.piped(
        db: db, setup: warmup,
        source: ReadMixSource(count: o.reads, population: o.learners, seed: o.seed, firstId: 1000),
        what: "figure 2b")
      reads.append(r.rate)
      readCPU.add(r)
      readMixPeaks.append(Double(r.peakRSSKiB) / 1024)
      progress("figure 2b, run \(run)/\(o.runs): read mix \(formatCount(Int(r.rate))) req/s")
    }
    rows.append(
      Row(
        figure: "2b", key: "piped.readMix",
        label: "piped read mix: \(formatCount(o.reads)) getRequirements/getDashboard",
        value: median(reads), unit: "req/s", samples: reads,
        target: Target(text: ">= 50,000 req/s", ratio: median(reads) / 50_000, bound: 1, direction: .atLeast))
    )
    rows.append(readCPU.row(figure: "2b", key: "piped.readMix.cpu", what: "read"))
  }

  // MARK: 3. Interactive latency

  private func latencyRun(db: String, population: Int, _ rng: inout SeededRandom, what: String) throws
    -> [UInt64]
  {
    let warmup = getRequirementsLines(Self.warmupRequests, population: population, &rng, firstId: 1)
    let lines = getRequirementsLines(o.latency, population: population, &rng, firstId: 1000)
    return try onOneCPU(o.pinLatency) {
      try service.interactive(db: db, setup: warmup, lines: lines, what: what).latencies
    }
  }

  func figure3() throws {
    let db = try population(o.learners)
    var rng = SeededRandom.stream(o.seed, 30)
    var p50: [Double] = []
    var p99: [Double] = []
    var mean: [Double] = []
    for run in 1...o.runs {
      let l = try latencyRun(db: db, population: o.learners, &rng, what: "figure 3")
      p50.append(Double(percentile(l, 50)) / 1e6)
      p99.append(Double(percentile(l, 99)) / 1e6)
      mean.append(Double(l.reduce(0, +)) / Double(l.count) / 1e6)
      progress("figure 3, run \(run)/\(o.runs): p50 \(fixed(p50.last!, 3)) ms, p99 \(fixed(p99.last!, 3)) ms")
    }
    rows.append(
      Row(
        figure: "3", key: "interactive.p50",
        label: "interactive getRequirements p50, \(formatCount(o.latency)) one at a time",
        value: median(p50), unit: "ms", samples: p50, extra: [("meanMs", median(mean))]))
    rows.append(
      Row(
        figure: "3", key: "interactive.p99", label: "interactive getRequirements p99",
        value: median(p99), unit: "ms", samples: p99,
        target: Target(text: "< 1 ms", ratio: median(p99) / 1, bound: 1, direction: .below)))
  }

  // MARK: 4. Group commit against a commit per request

  func figure4() throws {
    var piped: [Double] = []
    var alone: [Double] = []
    for run in 1...o.runs {
      let a = try tempDatabase("grouped", run)
      let r = try service.piped(
        db: a, setup: Requests.setup(),
        source: JourneySource(learners: o.commitLearners, seed: o.seed, firstId: 10), what: "figure 4, piped")
      discard("grouped", run)
      piped.append(r.rate)

      let b = try tempDatabase("alone", run)
      let lines = JourneySource(learners: o.commitLearners, seed: o.seed, firstId: 10).allLines()
      let (_, total) = try service.interactive(
        db: b, setup: Requests.setup(), lines: lines, what: "figure 4, one at a time")
      discard("alone", run)
      alone.append(Double(lines.count) / (Double(total) / 1e9))
      progress(
        "figure 4, run \(run)/\(o.runs): piped \(formatCount(Int(piped.last!))) req/s, "
          + "one at a time \(formatCount(Int(alone.last!))) req/s")
    }
    let ratio = median(piped) / median(alone)
    rows.append(
      Row(
        figure: "4", key: "durable.groupCommit",
        label: "group commit: journey of \(formatCount(o.commitLearners)) learners piped",
        value: median(piped), unit: "req/s", samples: piped,
        target: Target(text: ">= 5x one at a time", ratio: ratio, bound: 5, direction: .atLeast)))
    rows.append(
      Row(
        figure: "4", key: "durable.commitPerRequest",
        label: "commit per request: same journey one request at a time",
        value: median(alone), unit: "req/s", samples: alone))
  }

  // MARK: 5. Scaling

  func figure5() throws {
    let small = try population(o.small)
    let large = try population(o.large)
    var rng = SeededRandom.stream(o.seed, 50)
    var smallP50: [Double] = []
    var largeP50: [Double] = []
    for run in 1...o.runs {
      warmPageCache(small)
      let s = try latencyRun(db: small, population: o.small, &rng, what: "figure 5, small")
      warmPageCache(large)
      let l = try latencyRun(db: large, population: o.large, &rng, what: "figure 5, large")
      smallP50.append(Double(percentile(s, 50)) / 1e6)
      largeP50.append(Double(percentile(l, 50)) / 1e6)
      progress(
        "figure 5, run \(run)/\(o.runs): p50 \(fixed(smallP50.last!, 3)) ms at \(formatCount(o.small)), "
          + "\(fixed(largeP50.last!, 3)) ms at \(formatCount(o.large))")
    }
    let ratio = median(largeP50) / median(smallP50)
    rows.append(
      Row(
        figure: "5", key: "scaling.large", label: "p50 getRequirements at \(formatCount(o.large)) learners",
        value: median(largeP50), unit: "ms", samples: largeP50,
        target: Target(
          text: "<= 1.5x at \(formatCount(o.small))", ratio: ratio, bound: 1.5, direction: .atMost)))
    rows.append(
      Row(
        figure: "5", key: "scaling.small", label: "p50 getRequirements at \(formatCount(o.small)) learners",
        value: median(smallP50), unit: "ms", samples: smallP50))
  }

  // MARK: 7. Write scaling

  /// The timed methods of figure 7, in the order each new learner sends them (after an untimed
  /// createLearner).
  static let writeMethods = ["enroll", "recordGrade", "purchaseCredit", "submitProviderDecision"]

  /// One at a time on `db`, for `count` new learners numbered from `first`: createLearner
  /// (untimed), enroll (verified), recordGrade (passing), purchaseCredit, submitProviderDecision
  /// (approved, signed). Returns the latencies of each timed method, in nanoseconds.
  private func writeRun(db: String, population: Int, first: Int, count: Int, what: String) throws
    -> [[UInt64]]
  {
    var rng = SeededRandom.stream(o.seed, 70)
    var lines: [[UInt8]] = []
    var id = 1000
    for i in first..<(first + count) {
      lines.append(line { Requests.createLearner(&$0, id: id, learner: i, &rng) })
      lines.append(line { Requests.enroll(&$0, id: id + 1, learner: i, verified: true) })
      lines.append(line { Requests.recordGrade(&$0, id: id + 2, learner: i, hundredths: 85) })
      lines.append(line { Requests.purchaseCredit(&$0, id: id + 3, learner: i) })
      lines.append(line { Requests.submitProviderDecision(&$0, id: id + 4, learner: i) })
      id += 5
    }
    let warmup = getRequirementsLines(Self.warmupRequests, population: population, &rng, firstId: 1)
    let latencies = try service.interactive(db: db, setup: warmup, lines: lines, what: what).latencies
    return (1...Self.writeMethods.count).map { k in
      stride(from: k, to: latencies.count, by: 5).map { latencies[$0] }
    }
  }

  func figure7() throws {
    // Writes change the file: each size is measured on a copy of its cached database (one copy
    // for all runs; every run adds learners of its own).
    func copy(_ learners: Int) throws -> String {
      _ = try population(learners)
      let target = try engine.copy(Datasets.name(learners: learners), to: tempName("writes-\(learners)", 0))
      warmPageCache(target)
      return target
    }
    let small = try copy(o.small)
    let large = try copy(o.large)
    defer {
      discard("writes-\(o.small)", 0)
      discard("writes-\(o.large)", 0)
    }
    let methods = Self.writeMethods
    var smallP50 = [[Double]](repeating: [], count: methods.count)
    var largeP50 = [[Double]](repeating: [], count: methods.count)
    for run in 1...o.runs {
      // New learners after the population (ids of its own for each run).
      let s = try writeRun(
        db: small, population: o.small, first: o.small + run * o.writes, count: o.writes,
        what: "figure 7, small")
      let l = try writeRun(
        db: large, population: o.large, first: o.large + run * o.writes, count: o.writes,
        what: "figure 7, large")
      for k in methods.indices {
        smallP50[k].append(Double(percentile(s[k], 50)) / 1e6)
        largeP50[k].append(Double(percentile(l[k], 50)) / 1e6)
      }
      progress(
        "figure 7, run \(run)/\(o.runs): p50 "
          + methods.indices.map {
            "\(methods[$0]) \(fixed(smallP50[$0].last!, 3)) / \(fixed(largeP50[$0].last!, 3)) ms"
          }.joined(separator: ", ") + " at \(formatCount(o.small)) / \(formatCount(o.large))")
    }
    appendScalingRows(
      figure: "7", key: "writeScaling", methods: methods, small: smallP50, large: largeP50,
      how: ", one at a time")
  }

  /// For each method, its p50 at --large (with the <= 1.2x target against --small) and at --small.
  func appendScalingRows(
    figure: String, key: String, methods: [String], small: [[Double]], large: [[Double]], how: String
  ) {
    for (k, method) in methods.enumerated() {
      let ratio = median(large[k]) / median(small[k])
      rows.append(
        Row(
          figure: figure, key: "\(key).\(method).large",
          label: "p50 \(method)\(how) at \(formatCount(o.large)) learners",
          value: median(large[k]), unit: "ms", samples: large[k],
          target: Target(
            text: "<= 1.2x at \(formatCount(o.small))", ratio: ratio, bound: 1.2, direction: .atMost)))
      rows.append(
        Row(
          figure: figure, key: "\(key).\(method).small",
          label: "p50 \(method) at \(formatCount(o.small)) learners",
          value: median(small[k]), unit: "ms", samples: small[k]))
    }
  }

  // MARK: 6. Peak memory

  func figure6() throws {
    let db = try population(o.learners)
    var rng = SeededRandom.stream(o.seed, 60)
    let warmup = getRequirementsLines(Self.warmupRequests, population: o.learners, &rng, firstId: 1)
    func stream(_ count: Int) throws -> StreamResult {
      try service.piped(
        db: db, setup: warmup,
        source: ReadMixSource(count: count, population: o.learners, seed: o.seed, firstId: 1000),
        what: "figure 6")
    }
    var base: [Double]
    if o.only.contains(2), o.reads == o.streamBase, !readMixPeaks.isEmpty {
      base = readMixPeaks
    } else {
      base = []
      for run in 1...o.runs {
        base.append(Double(try stream(o.streamBase).peakRSSKiB) / 1024)
        progress(
          "figure 6, run \(run)/\(o.runs): \(formatCount(o.streamBase)) requests, peak \(format1(base.last!)) MiB"
        )
      }
    }
    var long: [Double] = []
    var rates: [Double] = []
    for run in 1...o.longStreamRuns {
      let r = try stream(o.stream)
      long.append(Double(r.peakRSSKiB) / 1024)
      rates.append(r.rate)
      progress(
        "figure 6, run \(run)/\(o.longStreamRuns): \(formatCount(o.stream)) requests, peak \(format1(long.last!)) MiB, "
          + "\(formatCount(Int(r.rate))) req/s")
    }
    let ratio = median(long) / median(base)
    rows.append(
      Row(
        figure: "6", key: "memory.long", label: "peak RSS streaming \(formatCount(o.stream)) read requests",
        value: median(long), unit: "MiB", samples: long,
        target: Target(
          text: "flat: <= 1.10x at \(formatCount(o.streamBase))", ratio: ratio, bound: 1.1, direction: .atMost
        ),
        extra: [("readMixRequestsPerSecond", median(rates))]))
    rows.append(
      Row(
        figure: "6", key: "memory.base",
        label: "peak RSS streaming \(formatCount(o.streamBase)) read requests",
        value: median(base), unit: "MiB", samples: base))
  }
}

/// The service's CPU time per request over the runs of a piped figure: less sensitive than
/// wall-clock rates to other work on the machine, and split into user space and kernel.
struct CPUTally {
  var total: [Double] = []
  var user: [Double] = []
  var system: [Double] = []

  mutating func add(_ r: StreamResult) {
    let n = Double(r.responses)
    total.append((r.userSeconds + r.systemSeconds) / n * 1e6)
    user.append(r.userSeconds / n * 1e6)
    system.append(r.systemSeconds / n * 1e6)
  }

  func row(figure: String, key: String, what: String) -> Row {
    Row(
      figure: figure, key: key,
      label:
        "  service CPU per \(what) request (user \(format1(median(user))) + kernel \(format1(median(system))) us)",
      value: median(total), unit: "us", samples: total,
      extra: [("userMicroseconds", median(user)), ("kernelMicroseconds", median(system))])
  }
}
