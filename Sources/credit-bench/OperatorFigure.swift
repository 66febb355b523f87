/// Figure 8 (issue 14): the operators' lists at --large against --small learners. Each request
/// starts at a random position of its list (a cursor into the middle), so that what is timed is
/// the seek and one page, as a worker or provider resuming from its last `next` would.
extension Bench {
  static let operatorMethods = ["listCreditRequests", "listOutbox", "listEvents", "listEnrollments"]

  /// The cursor the service gives out for a position of a list (`<tag>_<hex of the position>`).
  private func cursor(_ tag: String, _ position: String) -> String {
    let digits = Array("0123456789abcdef")
    return tag + "_" + String(position.utf8.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
  }

  /// One request line of each operator method per round, `rounds` rounds, ids from 1000.
  private func operatorLines(population: Int, rounds: Int, _ rng: inout SeededRandom) -> [[UInt8]] {
    var lines: [[UInt8]] = []
    var id = 1000
    for _ in 0..<rounds {
      // Positions inside each list of the population: one learner in eight bought credit, and
      // there are more events than learners and more than a quarter as many emails.
      let request = cursor("cr", String(1 + rng.below(max(1, population / 8))))
      let mail = cursor("ob", String(1 + rng.below(max(1, population / 4))))
      let event = cursor("ev", String(1 + rng.below(population)))
      let learner = cursor("en", World.learnerId(rng.below(population)))
      let texts = [
        #""listCreditRequests","params":{"providerId":"\#(World.providerId)","limit":100,"after":"\#(request)"}"#,
        #""listOutbox","params":{"limit":100,"after":"\#(mail)"}"#,
        #""listEvents","params":{"limit":100,"after":"\#(event)"}"#,
        #""listEnrollments","params":{"courseId":"\#(World.courseId)","limit":100,"after":"\#(learner)"}"#,
      ]
      for t in texts {
        lines.append(Array(#"{"jsonrpc":"2.0","id":\#(id),"method":\#(t)}"#.utf8) + [0x0A])
        id += 1
      }
    }
    return lines
  }

  private func operatorRun(db: String, population: Int, seed: UInt64, what: String) throws -> [[UInt64]] {
    var rng = SeededRandom.stream(seed, 80)
    let warmup = getRequirementsLines(Self.warmupRequests, population: population, &rng, firstId: 1)
    let lines = operatorLines(population: population, rounds: o.operatorRounds, &rng)
    let latencies = try service.interactive(db: db, setup: warmup, lines: lines, what: what).latencies
    let n = Self.operatorMethods.count
    return (0..<n).map { k in stride(from: k, to: latencies.count, by: n).map { latencies[$0] } }
  }

  func figure8() throws {
    let small = try population(o.small)
    let large = try population(o.large)
    let methods = Self.operatorMethods
    var smallP50 = [[Double]](repeating: [], count: methods.count)
    var largeP50 = [[Double]](repeating: [], count: methods.count)
    for run in 1...o.runs {
      let s = try operatorRun(
        db: small, population: o.small, seed: o.seed &+ UInt64(run), what: "figure 8, small")
      let l = try operatorRun(
        db: large, population: o.large, seed: o.seed &+ UInt64(run), what: "figure 8, large")
      for k in methods.indices {
        smallP50[k].append(Double(percentile(s[k], 50)) / 1e6)
        largeP50[k].append(Double(percentile(l[k], 50)) / 1e6)
      }
      progress(
        "figure 8, run \(run)/\(o.runs): p50 "
          + methods.indices.map {
            "\(methods[$0]) \(fixed(smallP50[$0].last!, 3)) / \(fixed(largeP50[$0].last!, 3)) ms"
          }.joined(separator: ", "))
    }
    appendScalingRows(
      figure: "8", key: "operatorScaling", methods: methods, small: smallP50, large: largeP50,
      how: " (a page of 100 from a cursor)")
  }
}
