#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Threads that wait for each other: the writers of figure 9 start their streams together.
final class StartLine: @unchecked Sendable {
  private var mutex = pthread_mutex_t()
  private var condition = pthread_cond_t()
  private var waiting = 0
  private let parties: Int

  init(parties: Int) {
    self.parties = parties
    pthread_mutex_init(&mutex, nil)
    pthread_cond_init(&condition, nil)
  }

  deinit {
    pthread_cond_destroy(&condition)
    pthread_mutex_destroy(&mutex)
  }

  /// Returns once all the parties have called it.
  func arrive() {
    pthread_mutex_lock(&mutex)
    waiting += 1
    if waiting >= parties {
      pthread_cond_broadcast(&condition)
    } else {
      while waiting < parties { pthread_cond_wait(&condition, &mutex) }
    }
    pthread_mutex_unlock(&mutex)
  }
}

extension Bench {
  // MARK: 9. Writers scaling

  /// One run of figure 9: `processes` credit-rpc processes at once on one new database (its
  /// catalog set up first by another process), each piping the journey of `o.writerLearners`
  /// learners of its own. Returns the total rate: every answer over the wall time from the first
  /// stream's start to the last one's end.
  func writersRun(processes: Int, run: Int) throws -> Double {
    let name = "writers-\(processes)"
    let db = try tempDatabase(name, run)
    defer { discard(name, run) }
    _ = try service.interactive(db: db, setup: Requests.setup(), lines: [], what: "figure 9, setup")
    let start = StartLine(parties: processes)
    let results = UncheckedBox([Result<StreamResult, Error>?](repeating: nil, count: processes))
    let lock = UncheckedBox(pthread_mutex_t())
    pthread_mutex_init(&lock.value, nil)
    let service = self.service
    let perProcess = o.writerLearners
    let seed = o.seed
    let workers = (0..<processes).map { p in
      Worker {
        // Learners of process p are numbered from (p + 1) million; one untimed createLearner
        // (of a learner outside the journey) opens the connection and warms the process.
        let first = (p + 1) * 1_000_000
        let warm: [UInt8] = {
          var out: [UInt8] = []
          var rng = SeededRandom.stream(seed, 90 &+ UInt64(p))
          Requests.createLearner(&out, id: 1, learner: first + perProcess, &rng)
          return out
        }()
        let result = Result {
          try service.piped(
            db: db, setup: [warm],
            source: JourneySource(
              learners: perProcess, seed: seed, firstId: 10, firstLearner: first, stream: 100 &+ UInt64(p)),
            what: "figure 9, \(processes) writers", beforeClock: { start.arrive() })
        }
        pthread_mutex_lock(&lock.value)
        results.value[p] = result
        pthread_mutex_unlock(&lock.value)
      }
    }
    for w in workers { w.join() }
    pthread_mutex_destroy(&lock.value)
    let streams = try results.value.map { try $0!.get() }
    let began = streams.map(\.startNanos).min()!
    let ended = streams.map(\.endNanos).max()!
    let answers = streams.map(\.responses).reduce(0, +)
    return Double(answers) / (Double(ended - began) / 1e9)
  }

  func figure9() throws {
    var rates: [Int: [Double]] = [:]
    for run in 1...o.runs {
      for k in o.writers {
        rates[k, default: []].append(try writersRun(processes: k, run: run))
      }
      progress(
        "figure 9, run \(run)/\(o.runs) (\(engine.name)): "
          + o.writers.map { "\($0) writers \(formatCount(Int(rates[$0]!.last!))) req/s" }.joined(
            separator: ", "))
    }
    let one = o.writers.min()!
    let base = median(rates[one]!)
    for k in o.writers {
      let value = median(rates[k]!)
      let ratio = value / base
      // SQLite has one writer at a time: its figures are reported beside PostgreSQL's, with no target.
      let target: Target? =
        k == one || !engine.isPostgreSQL
        ? nil
        : Target(text: ">= 1.5x \(one) (no global lock)", ratio: ratio, bound: 1.5, direction: .atLeast)
      rows.append(
        Row(
          figure: "9", key: "writersScaling.\(k)",
          label:
            "\(k) process\(k == 1 ? "" : "es") piping journeys of \(formatCount(o.writerLearners)) learners each, total"
            + (k == one ? "" : " (\(fixed(ratio, 2))x)"),
          value: value, unit: "req/s", samples: rates[k]!, target: target))
    }
  }
}
