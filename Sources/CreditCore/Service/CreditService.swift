import CreditCrypto

/// The credit service: loads what a request needs, applies the rules, stores the outcome. Every
/// public operation expects to run inside a transaction that its caller opened (see `scope`).
public final class CreditService {
  public let store: any Store
  public let clock: Clock
  /// Deterministic ids (under a test clock) so that scripted request files have fixed answers.
  public let deterministicIds: Bool
  /// Who is acting, written into history: `admin`, `staff`, `learner:<id>`, `provider:<id>`.
  public var actor = "admin"
  /// The largest decoded image accepted.
  public var maxImageBytes = 10 << 20
  public var paymentProcessor: PaymentProcessor = TestPaymentProcessor()

  public init(store: any Store, clock: Clock, deterministicIds: Bool) {
    self.store = store
    self.clock = clock
    self.deterministicIds = deterministicIds
  }

  /// The transactions that the server runs each group and request in.
  public var scope: any TransactionScope { store }

  var now: Instant { clock.now }

  // MARK: Lookups shared by the operations

  func course(_ courseId: String, field: String = "courseId") throws -> Course {
    guard let c = try store.course(courseId) else {
      throw CreditError.notFound("course", courseId, field: field)
    }
    return c
  }

  func learner(_ learnerId: String) throws -> Learner {
    guard let l = try store.learner(learnerId) else {
      throw CreditError.notFound("learner", learnerId, field: "learnerId")
    }
    return l
  }

  func provider(_ providerId: String, field: String = "providerId") throws -> Provider {
    guard let p = try store.provider(providerId) else {
      throw CreditError.notFound("provider", providerId, field: field)
    }
    return p
  }

  func exam(_ courseId: String, _ examId: String) throws -> Exam {
    guard let e = try store.exam(courseId: courseId, examId: examId) else {
      throw Self.examNotFound(courseId, examId)
    }
    return e
  }

  static func examNotFound(_ courseId: String, _ examId: String) -> CreditError {
    CreditError(
      .notFound, "Course \(courseId) has no exam '\(examId)'.", reason: "exam_not_found", field: "examId")
  }

  // MARK: History and email

  func recordEvent(
    learnerId: String, courseId: String?, kind: String, requirementId: String? = nil, from: String? = nil,
    to: String? = nil, detail: String? = nil, at: Instant? = nil, actor: String? = nil
  ) throws {
    try store.appendEvent(
      EventRecord(
        learnerId: learnerId, courseId: courseId, at: at ?? now, actor: actor ?? self.actor, kind: kind,
        requirementId: requirementId, from: from, to: to, detail: detail))
  }

  func sendEmail(_ learner: Learner, courseId: String?, kind: NotificationKind, subject: String, body: String)
    throws
  {
    try store.appendNotification(
      NotificationRecord(
        learnerId: learner.learnerId, courseId: courseId, kind: kind, to: learner.email, subject: subject,
        body: body, createdAt: now))
  }

  // MARK: Ids

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
