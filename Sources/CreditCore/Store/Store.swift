/// What the service reads and writes, in the domain's own types: the store interface that an
/// engine's SQL implements (see the CreditStore module). Writes may be buffered until the next
/// read, savepoint release or commit; a read always sees every write made before it.
public protocol Store: TransactionScope {
  // MARK: Catalog

  /// A course with its `earnCredit` flag.
  func course(_ courseId: String) throws -> Course?
  /// A course without its `earnCredit` flag (false here), which is all that never changes: may be
  /// served from a cache.
  func courseFacts(_ courseId: String) throws -> Course?
  /// Every course, by id, with its `earnCredit` flag.
  func courses() throws -> [Course]
  func insertCourse(_ course: Course, createdAt: Instant) throws
  func provider(_ providerId: String) throws -> Provider?
  /// A provider with its offer for a course (active, from an active provider) and its first
  /// signing secret: what a purchase needs, at once.
  func providerForPurchase(_ providerId: String, courseId: String) throws -> (Provider, Offer?, String?)?
  /// The provider's secrets, in order.
  func providerSecrets(_ providerId: String) throws -> [String]
  func insertProvider(_ provider: Provider, secrets: [String], createdAt: Instant) throws
  /// The active offers of a course from active providers, by provider id.
  func offers(courseId: String) throws -> [Offer]
  /// An offer whether active or not.
  func offer(courseId: String, providerId: String) throws -> Offer?
  func insertOffer(_ offer: Offer, createdAt: Instant) throws
  func exam(courseId: String, examId: String) throws -> Exam?
  func insertExam(_ exam: Exam) throws
  func requirements(courseId: String) throws -> [Requirement]
  /// Replaces a course's requirements; statuses of the removed ones are dropped, except for
  /// learners who bought credit (theirs no longer change).
  func replaceRequirements(courseId: String, with requirements: [Requirement]) throws
  /// The learners enrolled in a course, by id.
  func enrolledLearners(courseId: String) throws -> [String]

  // MARK: Identity

  func learner(_ learnerId: String) throws -> Learner?
  func insertLearner(_ learner: Learner, createdAt: Instant) throws
  func verification(_ verificationId: String) throws -> Verification?
  /// The latest initial verification of a learner, or the latest approved one.
  func latestInitialVerification(learnerId: String, approvedOnly: Bool) throws -> Verification?
  func latestReverification(learnerId: String, courseId: String, checkpointId: String) throws -> Verification?
  func insertVerification(_ v: Verification, images: VerificationImages, seq: Int64) throws
  /// Stores a review: status, reviewed_at, expires_at and reason.
  func updateVerification(_ v: Verification) throws

  // MARK: Standing

  func enrollment(learnerId: String, courseId: String) throws -> EnrollmentRecord?
  func insertEnrollment(_ e: EnrollmentRecord) throws
  /// Stores every changeable column of an enrollment.
  func updateEnrollment(_ e: EnrollmentRecord) throws
  /// Everything that decides where a learner stands in a course, in one pass. A write also needs
  /// the attempts that are still started but no longer current (their timeouts are recorded); a
  /// read may leave out attempts, scores and verifications when no requirement uses them.
  func standing(learnerId: String, courseId: String, forWrite: Bool) throws -> StandingRecord?
  /// The standing in every course the learner is enrolled in, by enrollment time then course id
  /// (attempts, scores and verifications left out when no requirement uses them).
  func standings(learnerId: String) throws -> [StandingRecord]
  /// Stores a requirement's status, reason and `updatedAt` (`at` when it has none).
  func storeStatus(learnerId: String, courseId: String, _ state: RequirementState, at: Instant) throws

  // MARK: Exams

  func attempt(_ attemptId: String) throws -> ExamAttempt?
  func currentAttempt(learnerId: String, courseId: String, examId: String) throws -> ExamAttempt?
  func insertAttempt(_ a: ExamAttempt, seq: Int64) throws
  /// Stores status, deadline, submitted_at and timed_out.
  func updateAttempt(_ a: ExamAttempt) throws
  func reviewAttempt(_ a: ExamAttempt, at: Instant) throws
  /// The attempt is no longer the current one (a reset), and its score is dropped.
  func resetAttempt(_ a: ExamAttempt) throws
  func examScore(learnerId: String, courseId: String, examId: String) throws -> Double?
  func storeExamScore(learnerId: String, courseId: String, examId: String, score: Double, at: Instant) throws
  func extraMinutes(learnerId: String, courseId: String, examId: String) throws -> Int64?
  func storeExtraMinutes(learnerId: String, courseId: String, examId: String, minutes: Int64) throws

  // MARK: Purchases

  /// The order placed with an idempotency key, with the digest of its parameters.
  func order(learnerId: String, idempotencyKey: String) throws -> (orderId: String, digest: String)?
  /// A purchase as it was answered when it was made.
  func purchase(orderId: String) throws -> Purchase?
  func insertPurchase(_ p: Purchase, idempotencyKey: String, digest: String, seq: Int64) throws
  func creditRequest(_ requestId: String) throws -> CreditRequest?
  func decideCreditRequest(_ requestId: String, status: CreditRequestStatus, at: Instant) throws

  // MARK: History and outbox

  func appendEvent(_ e: EventRecord) throws
  func appendNotification(_ n: NotificationRecord) throws
  func events(learnerId: String, courseId: String) throws -> [Event]
  func notifications(learnerId: String, afterId: Int64) throws -> [Notification]
  /// The next value of a named counter: 1, 2, 3 ...
  func nextSequence(_ name: String) throws -> Int64

  // MARK: The operators' side

  /// Stores every changeable column of a provider, and its secrets when given (replacing them).
  func updateProvider(_ provider: Provider, secrets: [String]?) throws
  /// Stores an existing offer's price and whether it is active.
  func storeOffer(_ offer: Offer) throws
  /// Credit requests after a position (the order's sequence number), in that order, with their
  /// learner and final grade.
  func creditRequests(_ filter: CreditRequestFilter, afterSeq: Int64, limit: Int) throws
    -> [(seq: Int64, listing: CreditRequestListing)]
  /// The learners of a course after `afterLearnerId`, by id; only those whose stored eligibility is
  /// one of `storedEligibility` when it is not empty.
  func enrolledLearners(
    courseId: String, storedEligibility: [Eligibility], afterLearnerId: String, limit: Int
  )
    throws -> [String]
  func outbox(afterId: Int64, limit: Int, unsentOnly: Bool) throws -> [OutboxEntry]
  /// Whether a notification was marked sent; nil when it does not exist.
  func notificationIsSent(_ notificationId: Int64) throws -> Bool?
  /// Marks a notification sent at `at`, unless it already was.
  func markSent(_ notificationId: Int64, at: Instant) throws
  /// Every learner's events after the event `afterEventId` (nil: from the start), in an order
  /// consistent with commits. An event whose transaction may still be followed by the commit of a
  /// lower id is not listed yet, so that a consumer paging with the last event's id skips nothing.
  func feed(afterEventId: Int64?, limit: Int) throws -> [FeedEvent]
}

/// A learner's row in a course: every column that changes.
public struct EnrollmentRecord: Sendable, Equatable {
  public var learnerId: String
  public var courseId: String
  public var mode: EnrollmentMode
  public var enrolledAt: Instant
  public var eligibility: Eligibility
  public var eligibleAt: Instant?
  public var deadlineOverride: Instant?
  public var courseGrade: Double?
  public var creditGrade: Double?

  public init(
    learnerId: String, courseId: String, mode: EnrollmentMode, enrolledAt: Instant,
    eligibility: Eligibility = .notYetEligible, eligibleAt: Instant? = nil, deadlineOverride: Instant? = nil,
    courseGrade: Double? = nil, creditGrade: Double? = nil
  ) {
    self.learnerId = learnerId
    self.courseId = courseId
    self.mode = mode
    self.enrolledAt = enrolledAt
    self.eligibility = eligibility
    self.eligibleAt = eligibleAt
    self.deadlineOverride = deadlineOverride
    self.courseGrade = courseGrade
    self.creditGrade = creditGrade
  }
}

/// An exam attempt as stored, with whether it is the current one of its exam.
public struct StoredAttempt: Sendable, Equatable {
  public var attempt: ExamAttempt
  public var current: Bool

  public init(_ attempt: ExamAttempt, current: Bool) {
    self.attempt = attempt
    self.current = current
  }
}

/// Everything stored that decides where one learner stands in one course.
public struct StandingRecord: Sendable {
  public var learner: Learner
  /// Without its catalog flag `earnCredit` (which the standing does not need).
  public var course: Course
  public var enrollment: EnrollmentRecord
  public var request: CreditRequest?
  public var requirements: [Requirement]
  /// The exams of the course's proctored-exam requirements.
  public var exams: [String: Exam]
  public var statuses: [String: RequirementState]
  /// The current attempt at each exam, and any other still started (a reset one).
  public var attempts: [StoredAttempt]
  public var scores: [String: Double]
  /// The learner's initial verifications and their reverifications in this course, oldest first.
  public var verifications: [Verification]
  /// Whether the learner has ever had an initial verification approved.
  public var initialApproved: Bool

  public init(
    learner: Learner, course: Course, enrollment: EnrollmentRecord, request: CreditRequest?,
    requirements: [Requirement], exams: [String: Exam], statuses: [String: RequirementState],
    attempts: [StoredAttempt], scores: [String: Double], verifications: [Verification], initialApproved: Bool
  ) {
    self.learner = learner
    self.course = course
    self.enrollment = enrollment
    self.request = request
    self.requirements = requirements
    self.exams = exams
    self.statuses = statuses
    self.attempts = attempts
    self.scores = scores
    self.verifications = verifications
    self.initialApproved = initialApproved
  }
}

/// The digests and sizes of a verification's images (the images themselves are never kept).
public struct VerificationImages: Sendable, Equatable {
  public var photoId: (sha256: String, bytes: Int)?
  public var face: (sha256: String, bytes: Int)

  public init(photoId: (sha256: String, bytes: Int)?, face: (sha256: String, bytes: Int)) {
    self.photoId = photoId
    self.face = face
  }

  public static func == (a: Self, b: Self) -> Bool {
    a.photoId?.sha256 == b.photoId?.sha256 && a.photoId?.bytes == b.photoId?.bytes && a.face == b.face
  }
}

/// A history event to append.
public struct EventRecord: Sendable, Equatable {
  public var learnerId: String
  public var courseId: String?
  public var at: Instant
  public var actor: String
  public var kind: String
  public var requirementId: String?
  public var from: String?
  public var to: String?
  public var detail: String?

  public init(
    learnerId: String, courseId: String?, at: Instant, actor: String, kind: String, requirementId: String?,
    from: String?, to: String?, detail: String?
  ) {
    self.learnerId = learnerId
    self.courseId = courseId
    self.at = at
    self.actor = actor
    self.kind = kind
    self.requirementId = requirementId
    self.from = from
    self.to = to
    self.detail = detail
  }
}

/// An email to send (the outbox).
public struct NotificationRecord: Sendable, Equatable {
  public var learnerId: String
  public var courseId: String?
  public var kind: NotificationKind
  public var to: String
  public var subject: String
  public var body: String
  public var createdAt: Instant

  public init(
    learnerId: String, courseId: String?, kind: NotificationKind, to: String, subject: String, body: String,
    createdAt: Instant
  ) {
    self.learnerId = learnerId
    self.courseId = courseId
    self.kind = kind
    self.to = to
    self.subject = subject
    self.body = body
    self.createdAt = createdAt
  }
}
