#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Progress for the person running the benchmark (stderr; stdout holds the results only).
func progress(_ message: String) {
  writeStderr("credit-bench: \(message)\n")
}

/// What one piped stream measured.
struct StreamResult {
  var seconds: Double
  var responses: Int
  var peakRSSKiB: Int
  /// CPU time of the whole service process (start and setup included), user and kernel.
  var userSeconds: Double
  var systemSeconds: Double
  /// The monotonic clock when the stream began and when its last answer was read.
  var startNanos: UInt64 = 0
  var endNanos: UInt64 = 0
  var rate: Double { Double(responses) / seconds }
}

/// Error responses seen in a run: a benchmark of errors measures nothing, so any is fatal.
struct ErrorTally {
  var count = 0
  var first: String?

  mutating func check(_ line: UnsafeRawBufferPointer, anywhere: Bool = false) {
    if isErrorResponse(line, anywhere: anywhere) {
      count += 1
      if first == nil { first = excerpt(line) }
    }
  }

  func verify(_ what: String) throws {
    if count > 0 {
      throw BenchError(
        "\(what): credit-rpc answered \(count) request(s) with an error; the first: \(first ?? "?")")
    }
  }
}

/// How to start the service under test.
struct Service {
  let binary: String
  let clock: String

  func spawn(db: String) throws -> Child {
    try Child(binary, ["--db", db, "--test-clock", clock])
  }

  /// Streams `source` through a fresh process serving `db`, after `setup` (answered before the
  /// clock starts, so that process start and database open are not counted), and times from the
  /// first byte written to the last response read.
  func piped(
    db: String, setup: [[UInt8]], source: RequestSource, batches: Bool = false, what: String,
    onProgress: ((Int) -> Void)? = nil, beforeClock: (() -> Void)? = nil
  ) throws -> StreamResult {
    let child = try spawn(db: db)
    let reader = LineReader(fd: child.output)
    var errors = ErrorTally()
    if !setup.isEmpty {
      // Written from a thread of its own, like the stream: a long setup must not fill both pipes.
      let bytes = Array(setup.joined())
      let setupWriter = Worker { child.write(bytes) }
      defer { setupWriter.join() }
      for _ in setup {
        guard let line = reader.nextLine() else {
          let exit = child.wait()
          throw BenchError("\(what): credit-rpc ended before answering the setup (exit code \(exit.code))")
        }
        errors.check(line, anywhere: true)
      }
    }
    let expected = source.responses
    beforeClock?()
    let start = monotonicNanos()
    let writer = feed(child, source)
    var got = 0
    while got < expected, let line = reader.nextLine() {
      errors.check(line, anywhere: batches)
      got += 1
      if let onProgress, batches || got % 1000 == 0 { onProgress(got) }
    }
    let end = monotonicNanos()
    writer.join()
    let extra = reader.drain()
    let exit = child.wait()
    if got < expected {
      throw BenchError(
        "\(what): credit-rpc answered \(got) of \(expected) lines and ended (exit code \(exit.code), signal \(exit.signal))"
      )
    }
    if extra > 0 { throw BenchError("\(what): credit-rpc answered \(extra) more lines than requests") }
    if !exit.succeeded {
      throw BenchError("\(what): credit-rpc exited with code \(exit.code), signal \(exit.signal)")
    }
    try errors.verify(what)
    return StreamResult(
      seconds: Double(end - start) / 1e9, responses: got, peakRSSKiB: exit.maxRSSKiB,
      userSeconds: exit.userSeconds,
      systemSeconds: exit.systemSeconds, startNanos: start, endNanos: end)
  }

  /// Sends `lines` one at a time, each only after the previous answer arrived, after `setup`
  /// (untimed); returns the latency of each, in nanoseconds, and the total.
  func interactive(db: String, setup: [[UInt8]], lines: [[UInt8]], what: String) throws -> (
    latencies: [UInt64], total: UInt64
  ) {
    let child = try spawn(db: db)
    let reader = LineReader(fd: child.output, capacity: 1 << 16)
    var errors = ErrorTally()
    func roundTrip(_ line: [UInt8]) throws -> UInt64 {
      let t0 = monotonicNanos()
      guard child.write(line), let answer = reader.nextLine() else {
        let exit = child.wait()
        throw BenchError(
          "\(what): credit-rpc stopped answering (exit code \(exit.code), signal \(exit.signal))")
      }
      let t1 = monotonicNanos()
      errors.check(answer)
      return t1 - t0
    }
    for line in setup { _ = try roundTrip(line) }
    var latencies: [UInt64] = []
    latencies.reserveCapacity(lines.count)
    let start = monotonicNanos()
    for line in lines { latencies.append(try roundTrip(line)) }
    let total = monotonicNanos() - start
    child.closeInput()
    reader.drain()
    let exit = child.wait()
    if !exit.succeeded {
      throw BenchError("\(what): credit-rpc exited with code \(exit.code), signal \(exit.signal)")
    }
    try errors.verify(what)
    return (latencies, total)
  }

  /// Process start to the first response of one request: spawn, write one line, read one line
  /// (the figure), then close stdin and wait (the second number).
  func coldStart(db: String, line: [UInt8]) throws -> (firstAnswer: UInt64, exited: UInt64) {
    let t0 = monotonicNanos()
    let child = try spawn(db: db)
    let reader = LineReader(fd: child.output, capacity: 1 << 16)
    child.write(line)
    guard let answer = reader.nextLine() else {
      let exit = child.wait()
      throw BenchError("cold start: credit-rpc gave no answer (exit code \(exit.code))")
    }
    let t1 = monotonicNanos()
    var errors = ErrorTally()
    errors.check(answer)
    child.closeInput()
    reader.drain()
    let exit = child.wait()
    let t2 = monotonicNanos()
    if !exit.succeeded { throw BenchError("cold start: credit-rpc exited with code \(exit.code)") }
    try errors.verify("cold start")
    return (t1 - t0, t2 - t0)
  }
}

/// The sqlite3 shell answering one query on a file: spawn to its output read and the process reaped.
func sqliteOneQuery(_ sqlite3: String, db: String, sql: String) throws -> (nanos: UInt64, output: String) {
  let t0 = monotonicNanos()
  let child = try Child(sqlite3, [db, sql], pipeInput: false)
  let reader = LineReader(fd: child.output, capacity: 1 << 16)
  var text = ""
  while let line = reader.nextLine() {
    text += String(decoding: line, as: UTF8.self)
    text += "\n"
  }
  let exit = child.wait()
  let t1 = monotonicNanos()
  if !exit.succeeded || text.isEmpty {
    throw BenchError("sqlite3 failed on \(sql) (exit code \(exit.code)); output: \(text)")
  }
  return (t1 - t0, text)
}

// MARK: Statistics

func median(_ values: [Double]) -> Double {
  precondition(!values.isEmpty)
  let s = values.sorted()
  return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Nearest-rank percentile (p in 0...100).
func percentile(_ values: [UInt64], _ p: Double) -> UInt64 {
  precondition(!values.isEmpty)
  let s = values.sorted()
  let rank = Int((p / 100 * Double(s.count)).rounded(.up))
  return s[max(0, min(s.count - 1, rank - 1))]
}
