import CreditCrypto
import SQLite

/// The credit service: loads what a request needs, applies the rules, stores the outcome. Every
/// public operation expects to run inside a transaction that its caller opened (see `Store`).
public final class CreditService {
  public let db: Database
  /// The transactions that the server runs each group and request in.
  public let scope: TransactionScope
  public let clock: Clock
  /// Deterministic ids (under a test clock) so that scripted request files have fixed answers.
  public let deterministicIds: Bool
  /// Who is acting, written into history: `admin`, `staff`, `learner:<id>`, `provider:<id>`.
  public var actor = "admin"
  /// The largest decoded image accepted.
  public var maxImageBytes = 10 << 20
  public var paymentProcessor: PaymentProcessor = TestPaymentProcessor()

  /// Learners and courses never change once stored (creating one again with other data is refused),
  /// so rows read are kept, even with other processes writing the same file. Only a rollback could
  /// leave a row here that is not in the file: `forgetUncommitted()` is called on every one.
  private var learners: [String: Learner] = [:]
  private var courses: [String: Course] = [:]
  private let cacheLimit = 50_000

  public init(db: Database, scope: TransactionScope, clock: Clock, deterministicIds: Bool) {
    self.db = db
    self.scope = scope
    self.clock = clock
    self.deterministicIds = deterministicIds
  }

  var now: Instant { clock.now }

  // MARK: Lookups shared by the operations

  func course(_ courseId: String, field: String = "courseId") throws -> Course {
    guard
      let c = try db.queryOne(
        "SELECT \(Rows.course) FROM courses WHERE course_id = ?", [.text(courseId)], Rows.course)
    else { throw CreditError.notFound("course", courseId, field: field) }
    return c
  }

  func learner(_ learnerId: String) throws -> Learner {
    if let l = learners[learnerId] { return l }
    guard
      let l = try db.queryOne(
        "SELECT \(Rows.learner) FROM learners WHERE learner_id = ?", [.text(learnerId)], Rows.learner)
    else { throw CreditError.notFound("learner", learnerId, field: "learnerId") }
    if learners.count >= cacheLimit { learners.removeAll(keepingCapacity: true) }
    learners[learnerId] = l
    return l
  }

  /// A course without its catalog flag `earnCredit` (which changes): what the journey needs.
  func courseFacts(_ courseId: String) throws -> Course {
    if let c = courses[courseId] { return c }
    var c = try course(courseId)
    c.earnCredit = false
    if courses.count >= cacheLimit { courses.removeAll(keepingCapacity: true) }
    courses[courseId] = c
    return c
  }

  /// Called when a transaction or savepoint is rolled back.
  public func forgetUncommitted() {
    learners.removeAll(keepingCapacity: true)
    courses.removeAll(keepingCapacity: true)
  }

  func provider(_ providerId: String, field: String = "providerId") throws -> Provider {
    guard
      let p = try db.queryOne(
        "SELECT \(Rows.provider) FROM providers WHERE provider_id = ?", [.text(providerId)], Rows.provider)
    else { throw CreditError.notFound("provider", providerId, field: field) }
    return p
  }

  func exam(_ courseId: String, _ examId: String) throws -> Exam {
    guard
      let e = try db.queryOne(
        "SELECT \(Rows.exam) FROM exams WHERE course_id = ? AND exam_id = ?",
        [.text(courseId), .text(examId)],
        Rows.exam)
    else {
      throw CreditError(
        .notFound, "Course \(courseId) has no exam '\(examId)'.", reason: "exam_not_found", field: "examId")
    }
    return e
  }

  func requirements(_ courseId: String) throws -> [Requirement] {
    try db.query(
      "SELECT \(Rows.requirement) FROM requirements WHERE course_id = ? ORDER BY position", [.text(courseId)],
      Rows.requirement)
  }

  func offers(_ courseId: String) throws -> [Offer] {
    try db.query(
      "SELECT \(Rows.offer) WHERE o.course_id = ? AND o.active = 1 AND p.active = 1 ORDER BY o.provider_id",
      [.text(courseId)], Rows.offer)
  }

  /// The latest initial verification of a learner.
  func latestInitialVerification(_ learnerId: String) throws -> Verification? {
    try db.queryOne(
      """
      SELECT \(Rows.verification) FROM verifications
      WHERE learner_id = ? AND kind = 'initial' ORDER BY seq DESC LIMIT 1
      """, [.text(learnerId)], Rows.verification)
  }

  // MARK: History and email

  func recordEvent(
    learnerId: String, courseId: String?, kind: String, requirementId: String? = nil, from: String? = nil,
    to: String? = nil, detail: String? = nil, at: Instant? = nil, actor: String? = nil
  ) throws {
    try db.run(
      """
      INSERT INTO events (learner_id, course_id, at, actor, kind, requirement_id, from_value, to_value, detail)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [
        .text(learnerId), .optional(courseId), .int(at ?? now), .text(actor ?? self.actor), .text(kind),
        .optional(requirementId), .optional(from), .optional(to), .optional(detail),
      ])
  }

  func sendEmail(_ learner: Learner, courseId: String?, kind: NotificationKind, subject: String, body: String)
    throws
  {
    try db.run(
      """
      INSERT INTO notifications (learner_id, course_id, kind, to_address, subject, body, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)
      """,
      [
        .text(learner.learnerId), .optional(courseId), .text(kind.rawValue), .text(learner.email),
        .text(subject),
        .text(body), .int(now),
      ])
  }

  // MARK: Ids

  /// The next value of a named counter, e.g. `ver` -> 1, 2, 3 ...
  func nextSequence(_ name: String) throws -> Int64 {
    try db.run(
      "INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = value + 1",
      [.text(name)])
    return try db.scalarInt("SELECT value FROM counters WHERE name = ?", [.text(name)]) ?? 1
  }

  /// A 32-hex-digit id (like a UUID without dashes): random, or under a test clock derived from
  /// `seed` so that replayed scripts get the same ids.
  func opaqueId(seed: String) -> String {
    if deterministicIds {
      return Hex.encode(Array(SHA256.hash(Array(seed.utf8)).prefix(16)))
    }
    var rng = SystemRandomNumberGenerator()
    var bytes = [UInt8](repeating: 0, count: 16)
    for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
    return Hex.encode(bytes)
  }
}
