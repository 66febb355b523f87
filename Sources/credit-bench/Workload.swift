import CreditCrypto

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

// The scripted workloads: deterministic request lines, generated from a seed, streamed in chunks
// so that a million requests never sit in memory at once.

/// SplitMix64: small, fast and the same on every platform, so a seed always gives the same file.
struct SeededRandom {
  private var state: UInt64
  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in 0..<n.
  mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

  /// Uniform in [0, 1).
  mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

  /// A generator for one purpose, independent of the others drawn from the same seed.
  static func stream(_ seed: UInt64, _ purpose: UInt64) -> SeededRandom {
    var r = SeededRandom(seed: seed ^ (purpose &* 0xD6E8_FEB8_6659_FD93))
    _ = r.next()
    return r
  }
}

/// The fixed names of the benchmark world.
enum World {
  static let courseId = "course-v1:BenchX+CR101+2026"
  static let providerId = "bench-state"
  static let providerSecret = "bench-secret-0000000001"
  static let testClock = "2026-03-01T00:00:00Z"
  static let minGrade = 0.7
  static let countries = ["US", "CA", "GB", "DE", "IN", "BR", "NG", "JP", "FR", "MX"]

  static func learnerId(_ i: Int) -> String { "learner-" + padded(i, 7) }

  static func padded(_ n: Int, _ width: Int) -> String {
    let digits = String(n)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
  }
}

extension Array where Element == UInt8 {
  mutating func put(_ s: StaticString) {
    s.withUTF8Buffer { append(contentsOf: $0) }
  }
  mutating func put(_ s: String) { append(contentsOf: s.utf8) }
  /// A decimal integer (String(n) of an id-sized number stays in a small, unallocated string).
  mutating func put(_ n: Int) { append(contentsOf: String(n).utf8) }
  /// A learner id, without quotes.
  mutating func putLearner(_ i: Int) {
    put("learner-")
    var divisor = 1_000_000
    if i >= 10_000_000 {
      put(i)
      return
    }
    while divisor > 0 {
      append(UInt8(0x30 + (i / divisor) % 10))
      divisor /= 10
    }
  }
  /// A grade with two decimals, e.g. 0.83 (as a JSON number).
  mutating func putGrade(_ hundredths: Int) {
    if hundredths >= 100 {
      put("1.0")
      return
    }
    put("0.")
    append(UInt8(0x30 + hundredths / 10))
    append(UInt8(0x30 + hundredths % 10))
  }
}

private let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

/// `count` random bytes (a stand-in image) in base64.
func putBase64Image(_ out: inout [UInt8], bytes count: Int, _ rng: inout SeededRandom) {
  var i = 0
  while i + 3 <= count {
    let v = rng.next()
    let b = (UInt32(v & 0xFF) << 16) | (UInt32((v >> 8) & 0xFF) << 8) | UInt32((v >> 16) & 0xFF)
    out.append(base64Alphabet[Int((b >> 18) & 63)])
    out.append(base64Alphabet[Int((b >> 12) & 63)])
    out.append(base64Alphabet[Int((b >> 6) & 63)])
    out.append(base64Alphabet[Int(b & 63)])
    i += 3
  }
}

/// Request lines appended to a buffer a chunk at a time.
protocol RequestSource: AnyObject {
  /// Appends whole lines until `out` holds at least `target` bytes or the source is done;
  /// false once there is nothing more to append.
  func fill(_ out: inout [UInt8], target: Int) -> Bool
  /// How many responses the lines so far, and all to come, will produce.
  var responses: Int { get }
}

/// Streams `source` into the child's stdin on a thread of its own, then closes the stdin.
func feed(_ child: Child, _ source: RequestSource) -> Worker {
  let box = UncheckedBox(source)
  return Worker {
    var chunk: [UInt8] = []
    chunk.reserveCapacity(1 << 17)
    while true {
      chunk.removeAll(keepingCapacity: true)
      let more = box.value.fill(&chunk, target: 1 << 16)
      if !chunk.isEmpty, !child.write(chunk) { break }
      if !more { break }
    }
    child.closeInput()
  }
}

final class UncheckedBox<T>: @unchecked Sendable {
  var value: T
  init(_ value: T) { self.value = value }
}

/// Opens one JSON-RPC request line: `{"jsonrpc":"2.0","id":N,"method":"M","params":{`.
@inline(__always)
func openRequest(_ out: inout [UInt8], id: Int, _ method: StaticString) {
  out.put(#"{"jsonrpc":"2.0","id":"#)
  out.put(id)
  out.put(#","method":""#)
  out.put(method)
  out.put(#"","params":{"#)
}

enum Requests {
  /// The catalog every workload starts from: one course that offers credit from one provider,
  /// with a grade requirement.
  static func setup(firstId: Int = 1) -> [[UInt8]] {
    let c = World.courseId
    let p = World.providerId
    let params = [
      #""createCourse","params":{"courseId":"\#(c)","title":"Credit Bench 101","startsAt":"2026-01-05T00:00:00Z","endsAt":"2026-06-30T23:59:59Z","passingGrade":0.6,"verifiedPrice":{"amount":"49.00","currency":"USD"}}}"#,
      #""createProvider","params":{"providerId":"\#(p)","displayName":"Bench State University","url":"https://credit.bench-state.example/apply","description":"Bench State grants 3 credits for this course.","secrets":["\#(World.providerSecret)"]}}"#,
      #""offerCredit","params":{"courseId":"\#(c)","providerId":"\#(p)","price":{"amount":"300.00","currency":"USD"}}}"#,
      #""setCreditRequirements","params":{"courseId":"\#(c)","requirements":[{"kind":"grade","minGrade":\#(World.minGrade)}]}}"#,
    ]
    return params.enumerated().map { i, rest in
      Array(#"{"jsonrpc":"2.0","id":\#(firstId + i),"method":\#(rest)"#.utf8) + [0x0A]
    }
  }

  static func getRequirements(_ out: inout [UInt8], id: Int, learner: Int) {
    openRequest(&out, id: id, "getRequirements")
    out.put(#""learnerId":""#)
    out.putLearner(learner)
    out.put(#"","courseId":""#)
    out.put(World.courseId)
    out.put("\"}}\n")
  }

  static func getDashboard(_ out: inout [UInt8], id: Int, learner: Int) {
    openRequest(&out, id: id, "getDashboard")
    out.put(#""learnerId":""#)
    out.putLearner(learner)
    out.put("\"}}\n")
  }

  static func createLearner(_ out: inout [UInt8], id: Int, learner i: Int, _ rng: inout SeededRandom) {
    openRequest(&out, id: id, "createLearner")
    out.put(#""learnerId":""#)
    out.putLearner(i)
    out.put(#"","fullName":"Learner "#)
    out.put(i)
    out.put(#"","email":""#)
    out.putLearner(i)
    out.put(#"@example.org","country":""#)
    out.put(World.countries[rng.below(World.countries.count)])
    if i % 2 == 1 {
      out.put(#"","mailingAddress":""#)
      out.put(i % 997 + 1)
      out.put(" Bench Street, Springfield")
    }
    out.put("\"}}\n")
  }

  static func enroll(_ out: inout [UInt8], id: Int, learner: Int, verified: Bool) {
    openRequest(&out, id: id, "enroll")
    out.put(#""learnerId":""#)
    out.putLearner(learner)
    out.put(#"","courseId":""#)
    out.put(World.courseId)
    out.put(verified ? #"","mode":"verified"}}"# : #"","mode":"audit"}}"#)
    out.append(0x0A)
  }

  static func verifyIdentity(_ out: inout [UInt8], id: Int, learner: Int, _ rng: inout SeededRandom) {
    openRequest(&out, id: id, "verifyIdentity")
    out.put(#""learnerId":""#)
    out.putLearner(learner)
    out.put(#"","photoIdImage":""#)
    putBase64Image(&out, bytes: 192, &rng)
    out.put(#"","faceImage":""#)
    putBase64Image(&out, bytes: 144, &rng)
    out.put("\"}}\n")
  }

  static func approveVerification(_ out: inout [UInt8], id: Int, learner: Int) {
    openRequest(&out, id: id, "reviewVerification")
    out.put(#""learnerId":""#)
    out.putLearner(learner)
    out.put(#"","decision":"approved"}}"#)
    out.append(0x0A)
  }

  static func recordGrade(_ out: inout [UInt8], id: Int, learner: Int, hundredths: Int) {
    openRequest(&out, id: id, "recordGrade")
    out.put(#""learnerId":""#)
    out.putLearner(learner)
    out.put(#"","courseId":""#)
    out.put(World.courseId)
    out.put(#"","grade":"#)
    out.putGrade(hundredths)
    out.put("}}\n")
  }

  static func purchaseCredit(_ out: inout [UInt8], id: Int, learner: Int) {
    openRequest(&out, id: id, "purchaseCredit")
    out.put(#""learnerId":""#)
    out.putLearner(learner)
    out.put(#"","courseId":""#)
    out.put(World.courseId)
    out.put(#"","providerId":""#)
    out.put(World.providerId)
    out.put(#"","payment":{"method":"card","token":"tok_visa"},"idempotencyKey":"order-"#)
    out.putLearner(learner)
    out.put("\"}}\n")
  }
}

extension Requests {
  /// The Unix time of `World.testClock`, the timestamp the bench signs decisions with.
  static let clockSeconds = 1_772_323_200

  /// The credit request id the service makes for a learner under `--test-clock` (derived from the
  /// learner and the course, so that a script can name it before it exists).
  static func requestId(learner: Int) -> String {
    Hex.encode(
      Array(
        SHA256.hash(Array("credit-request|\(World.learnerId(learner))|\(World.courseId)".utf8)).prefix(16)))
  }

  static func submitProviderDecision(_ out: inout [UInt8], id: Int, learner: Int) {
    let requestId = requestId(learner: learner)
    let message = "request_uuid:\(requestId)status:approvedtimestamp:\(clockSeconds)"
    let signature = Hex.encode(
      HMACSHA256.authenticate(key: Array(World.providerSecret.utf8), message: Array(message.utf8)))
    openRequest(&out, id: id, "submitProviderDecision")
    out.put(#""providerId":""#)
    out.put(World.providerId)
    out.put(#"","requestId":""#)
    out.put(requestId)
    out.put(#"","status":"approved","timestamp":"#)
    out.put(clockSeconds)
    out.put(#","signature":""#)
    out.put(signature)
    out.put("\"}}\n")
  }
}

/// The write-heavy journey: per learner createLearner, enroll (verified), verifyIdentity,
/// reviewVerification (approved), recordGrade (passing), getRequirements, purchaseCredit (tok_visa).
final class JourneySource: RequestSource {
  static let requestsPerLearner = 7
  private let learners: Int
  private var next = 0
  private var id: Int
  private var rng: SeededRandom
  var responses: Int { learners * Self.requestsPerLearner }

  private let firstLearner: Int

  /// Learners numbered from `firstLearner`; `stream` picks the random draws (distinct streams for
  /// concurrent writers).
  init(learners: Int, seed: UInt64, firstId: Int, firstLearner: Int = 0, stream: UInt64 = 2) {
    self.learners = learners
    self.id = firstId
    self.firstLearner = firstLearner
    self.rng = .stream(seed, stream)
  }

  /// The lines of learner `i`, appended to `out`.
  func appendLearner(_ out: inout [UInt8]) {
    let i = firstLearner + next
    next += 1
    Requests.createLearner(&out, id: id, learner: i, &rng)
    Requests.enroll(&out, id: id + 1, learner: i, verified: true)
    Requests.verifyIdentity(&out, id: id + 2, learner: i, &rng)
    Requests.approveVerification(&out, id: id + 3, learner: i)
    Requests.recordGrade(&out, id: id + 4, learner: i, hundredths: 70 + rng.below(31))
    Requests.getRequirements(&out, id: id + 5, learner: i)
    Requests.purchaseCredit(&out, id: id + 6, learner: i)
    id += Self.requestsPerLearner
  }

  func fill(_ out: inout [UInt8], target: Int) -> Bool {
    while next < learners, out.count < target { appendLearner(&out) }
    return next < learners
  }

  /// Every line, one request each (for the interactive run).
  func allLines() -> [[UInt8]] {
    var lines: [[UInt8]] = []
    var buffer: [UInt8] = []
    while next < learners {
      buffer.removeAll(keepingCapacity: true)
      appendLearner(&buffer)
      lines += buffer.split(separator: 0x0A).map { Array($0) + [0x0A] }
    }
    return lines
  }
}

/// The read mix: getRequirements and getDashboard alternating, over learners drawn uniformly from
/// an existing population.
final class ReadMixSource: RequestSource {
  private let count: Int
  private let population: Int
  private var sent = 0
  private var id: Int
  private var rng: SeededRandom
  var responses: Int { count }

  init(count: Int, population: Int, seed: UInt64, firstId: Int) {
    self.count = count
    self.population = population
    self.id = firstId
    self.rng = .stream(seed, 3)
  }

  func fill(_ out: inout [UInt8], target: Int) -> Bool {
    while sent < count, out.count < target {
      let learner = rng.below(population)
      if sent & 1 == 0 {
        Requests.getRequirements(&out, id: id, learner: learner)
      } else {
        Requests.getDashboard(&out, id: id, learner: learner)
      }
      sent += 1
      id += 1
    }
    return sent < count
  }
}

/// The population of a stored database: every learner created and enrolled (one in ten as audit,
/// the rest verified), one in four graded, half of those at or above the minimum (so eligible),
/// and one in eight (verified, passing) with a credit purchase.
/// Sent as JSON-RPC batches, `batchSize` requests a line.
final class PopulationSource: RequestSource {
  private let learners: Int
  private let batchSize: Int
  private var next = 0
  private var id: Int
  private var rng: SeededRandom
  private var pending = 0
  private(set) var batches = 0
  private(set) var requests = 0
  var responses: Int { batchCount }
  private let batchCount: Int

  init(learners: Int, seed: UInt64, firstId: Int, batchSize: Int = 500) {
    self.learners = learners
    self.batchSize = batchSize
    self.id = firstId
    self.rng = .stream(seed, 1)
    // Requests per learner: 2, plus a grade for one in four, plus a purchase for one in eight.
    let total = learners * 2 + (learners + 3) / 4 + (learners + 7) / 8
    self.batchCount = (total + batchSize - 1) / batchSize
  }

  private func request(_ out: inout [UInt8], _ write: (inout [UInt8], Int) -> Void) {
    if pending == 0 {
      out.append(0x5B)
    } else {
      out.append(0x2C)
    }
    write(&out, id)
    out.removeLast()  // the newline each request line ends with
    id += 1
    requests += 1
    pending += 1
    if pending == batchSize { closeBatch(&out) }
  }

  private func closeBatch(_ out: inout [UInt8]) {
    out.put("]\n")
    pending = 0
    batches += 1
  }

  func fill(_ out: inout [UInt8], target: Int) -> Bool {
    while next < learners, out.count < target {
      let i = next
      next += 1
      request(&out) { Requests.createLearner(&$0, id: $1, learner: i, &rng) }
      // One in eight buys credit: verified, passing, and a credit request stored (so that the
      // tables of orders, credit requests, events and notifications grow with the population).
      let buys = i % 8 == 0
      let verified = rng.below(10) != 0 || buys
      request(&out) { Requests.enroll(&$0, id: $1, learner: i, verified: verified) }
      if i % 4 == 0 {
        let passing = rng.below(2) == 0 || buys
        let grade = passing ? 70 + rng.below(31) : 30 + rng.below(40)
        request(&out) { Requests.recordGrade(&$0, id: $1, learner: i, hundredths: grade) }
      }
      if buys { request(&out) { Requests.purchaseCredit(&$0, id: $1, learner: i) } }
    }
    if next == learners, pending > 0 { closeBatch(&out) }
    return next < learners
  }
}

/// Writes the generated workloads as request files (`--emit`): the population of a database, the
/// journey and the read mix, one request (or batch) per line.
func emitRequestFiles(_ o: Options) throws -> [String] {
  makeFolders(o.emit!)
  func write(_ name: String, setup: [[UInt8]], _ source: RequestSource) throws -> String {
    let path = "\(o.emit!)/\(name)"
    guard let f = fopen(path, "w") else { throw BenchError("cannot write \(path)") }
    defer { fclose(f) }
    var chunk = Array(setup.joined())
    var more = true
    while more {
      more = source.fill(&chunk, target: 1 << 16)
      if !chunk.isEmpty, fwrite(chunk, 1, chunk.count, f) != chunk.count {
        throw BenchError("cannot write \(path)")
      }
      chunk.removeAll(keepingCapacity: true)
    }
    return path
  }
  return [
    try write(
      "population-\(o.learners).jsonl", setup: Requests.setup(),
      PopulationSource(learners: o.learners, seed: o.seed, firstId: 10)),
    try write(
      "journey-\(o.journey).jsonl", setup: Requests.setup(),
      JourneySource(learners: o.journey, seed: o.seed, firstId: 10)),
    try write(
      "read-mix-\(o.reads)-over-\(o.learners).jsonl", setup: [],
      ReadMixSource(count: o.reads, population: o.learners, seed: o.seed, firstId: 1000)),
  ]
}
