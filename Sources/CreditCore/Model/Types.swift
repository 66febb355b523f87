/// Money in integer cents of a currency; written with two decimals.
public struct Money: Sendable, Equatable {
  public var cents: Int64
  public var currency: String

  public init(cents: Int64, currency: String) {
    self.cents = cents
    self.currency = currency
  }

  /// `"300.00"`.
  public var amount: String {
    let sign = cents < 0 ? "-" : ""
    let c = abs(cents)
    let frac = c % 100
    return "\(sign)\(c / 100).\(frac < 10 ? "0" : "")\(frac)"
  }

  /// Parses a decimal amount (`"300"`, `"300.5"`, `"300.00"`); nil for anything else or for more
  /// than two decimals that are not zeros.
  public static func parseAmount(_ s: String) -> Int64? {
    let parts = s.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.count <= 12,
      whole.allSatisfy({ $0.isASCII && $0.isNumber }), let w = Int64(whole)
    else { return nil }
    var cents = w * 100
    if parts.count == 2 {
      let f = parts[1]
      guard !f.isEmpty, f.count <= 10, f.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
      let digits = Array(f)
      guard digits.dropFirst(2).allSatisfy({ $0 == "0" }) else { return nil }
      let tens = Int64(String(digits[0]))!
      let ones = digits.count > 1 ? Int64(String(digits[1]))! : 0
      cents += tens * 10 + ones
    }
    return cents
  }
}

public struct Course: Sendable, Equatable {
  public var courseId: String
  public var org: String
  public var number: String
  public var run: String
  public var title: String
  public var startsAt: Instant
  public var endsAt: Instant
  public var passingGrade: Double
  public var verifiedPrice: Money?
  public var purchaseWindowDays: Int64
  /// At least one active offer and a requirement set.
  public var earnCredit: Bool

  /// The course's own purchase deadline: end + window (the last allowed instant).
  public var purchaseDeadline: Instant { endsAt + purchaseWindowDays * 86_400 }

  public init(
    courseId: String, org: String, number: String, run: String, title: String, startsAt: Instant,
    endsAt: Instant, passingGrade: Double, verifiedPrice: Money? = nil, purchaseWindowDays: Int64,
    earnCredit: Bool
  ) {
    self.courseId = courseId
    self.org = org
    self.number = number
    self.run = run
    self.title = title
    self.startsAt = startsAt
    self.endsAt = endsAt
    self.passingGrade = passingGrade
    self.verifiedPrice = verifiedPrice
    self.purchaseWindowDays = purchaseWindowDays
    self.earnCredit = earnCredit
  }
}

public struct Provider: Sendable, Equatable {
  public var providerId: String
  public var displayName: String
  public var url: String
  public var statusUrl: String?
  public var description: String?
  public var fulfillmentInstructions: String?
  public var requiresAdditionalSteps: Bool
  public var active: Bool

  public init(
    providerId: String, displayName: String, url: String, statusUrl: String? = nil,
    description: String? = nil, fulfillmentInstructions: String? = nil, requiresAdditionalSteps: Bool,
    active: Bool
  ) {
    self.providerId = providerId
    self.displayName = displayName
    self.url = url
    self.statusUrl = statusUrl
    self.description = description
    self.fulfillmentInstructions = fulfillmentInstructions
    self.requiresAdditionalSteps = requiresAdditionalSteps
    self.active = active
  }
}

public struct Offer: Sendable, Equatable {
  public var courseId: String
  public var providerId: String
  public var displayName: String
  public var price: Money
  /// False once withdrawn (or while its provider is inactive): not offered, not for sale.
  public var active: Bool

  public init(
    courseId: String, providerId: String, displayName: String, price: Money, active: Bool = true
  ) {
    self.courseId = courseId
    self.providerId = providerId
    self.displayName = displayName
    self.price = price
    self.active = active
  }
}

public struct Exam: Sendable, Equatable {
  public var courseId: String
  public var examId: String
  public var displayName: String
  public var timeLimitMinutes: Int64
  public var passingScore: Double
  public var proctored: Bool

  public init(
    courseId: String, examId: String, displayName: String, timeLimitMinutes: Int64, passingScore: Double,
    proctored: Bool
  ) {
    self.courseId = courseId
    self.examId = examId
    self.displayName = displayName
    self.timeLimitMinutes = timeLimitMinutes
    self.passingScore = passingScore
    self.proctored = proctored
  }
}

public enum RequirementKind: String, Sendable, CaseIterable {
  case grade, proctoredExam, reverification
}

public struct Requirement: Sendable, Equatable {
  public var requirementId: String
  public var kind: RequirementKind
  public var displayName: String
  public var order: Int
  public var minGrade: Double?
  public var examId: String?
  public var checkpointId: String?

  public static func id(kind: RequirementKind, examId: String? = nil, checkpointId: String? = nil) -> String {
    switch kind {
    case .grade: "grade"
    case .proctoredExam: "proctoredExam:\(examId ?? "")"
    case .reverification: "reverification:\(checkpointId ?? "")"
    }
  }

  public init(
    requirementId: String, kind: RequirementKind, displayName: String, order: Int, minGrade: Double? = nil,
    examId: String? = nil, checkpointId: String? = nil
  ) {
    self.requirementId = requirementId
    self.kind = kind
    self.displayName = displayName
    self.order = order
    self.minGrade = minGrade
    self.examId = examId
    self.checkpointId = checkpointId
  }
}

public struct Learner: Sendable, Equatable {
  public var learnerId: String
  public var fullName: String
  public var email: String
  public var country: String
  public var mailingAddress: String?

  public init(
    learnerId: String, fullName: String, email: String, country: String, mailingAddress: String? = nil
  ) {
    self.learnerId = learnerId
    self.fullName = fullName
    self.email = email
    self.country = country
    self.mailingAddress = mailingAddress
  }
}

public enum EnrollmentMode: String, Sendable, CaseIterable {
  case verified, audit
}

public struct Enrollment: Sendable, Equatable {
  public var learnerId: String
  public var courseId: String
  public var mode: EnrollmentMode
  public var enrolledAt: Instant
  public var creditTrack: Bool { mode == .verified }

  public init(
    learnerId: String, courseId: String, mode: EnrollmentMode, enrolledAt: Instant
  ) {
    self.learnerId = learnerId
    self.courseId = courseId
    self.mode = mode
    self.enrolledAt = enrolledAt
  }
}

public enum RequirementStatus: String, Sendable, CaseIterable {
  case pending, submitted, satisfied, failed, declined
}

public enum Eligibility: String, Sendable, CaseIterable {
  case eligible, notYetEligible, ineligible
}

/// A requirement as one learner stands with it.
public struct RequirementState: Sendable, Equatable {
  public var requirement: Requirement
  public var status: RequirementStatus
  public var reason: String?
  public var updatedAt: Instant?

  public init(
    requirement: Requirement, status: RequirementStatus, reason: String? = nil, updatedAt: Instant? = nil
  ) {
    self.requirement = requirement
    self.status = status
    self.reason = reason
    self.updatedAt = updatedAt
  }
}

/// The "Requirements for Course Credit" section.
public struct CreditStatus: Sendable, Equatable {
  public var learnerId: String
  public var courseId: String
  public var creditTrack: Bool
  public var eligibility: Eligibility
  public var purchaseDeadline: Instant?
  public var requirements: [RequirementState]

  public init(
    learnerId: String, courseId: String, creditTrack: Bool, eligibility: Eligibility,
    purchaseDeadline: Instant? = nil, requirements: [RequirementState]
  ) {
    self.learnerId = learnerId
    self.courseId = courseId
    self.creditTrack = creditTrack
    self.eligibility = eligibility
    self.purchaseDeadline = purchaseDeadline
    self.requirements = requirements
  }
}

public enum VerificationKind: String, Sendable {
  case initial, reverification
}

public enum VerificationStatus: String, Sendable, CaseIterable {
  case submitted, approved, denied
}

public struct Verification: Sendable, Equatable {
  public var verificationId: String
  public var learnerId: String
  public var kind: VerificationKind
  public var courseId: String?
  public var checkpointId: String?
  public var status: VerificationStatus
  public var submittedAt: Instant
  public var reviewedAt: Instant?
  public var expiresAt: Instant?
  public var reason: String?

  public init(
    verificationId: String, learnerId: String, kind: VerificationKind, courseId: String? = nil,
    checkpointId: String? = nil, status: VerificationStatus, submittedAt: Instant, reviewedAt: Instant? = nil,
    expiresAt: Instant? = nil, reason: String? = nil
  ) {
    self.verificationId = verificationId
    self.learnerId = learnerId
    self.kind = kind
    self.courseId = courseId
    self.checkpointId = checkpointId
    self.status = status
    self.submittedAt = submittedAt
    self.reviewedAt = reviewedAt
    self.expiresAt = expiresAt
    self.reason = reason
  }
}

public enum AttemptStatus: String, Sendable, CaseIterable {
  case started, submitted, verified, rejected, error
}

public enum ExamReview: String, Sendable, CaseIterable {
  case clean, rulesViolation, suspicious, notReviewed
}

public struct ExamAttempt: Sendable, Equatable {
  public var attemptId: String
  public var learnerId: String
  public var courseId: String
  public var examId: String
  public var proctored: Bool
  public var status: AttemptStatus
  public var startedAt: Instant
  public var deadline: Instant
  public var submittedAt: Instant?
  public var timedOut: Bool
  public var score: Double?
  public var review: ExamReview?
  public var reviewComment: String?

  public init(
    attemptId: String, learnerId: String, courseId: String, examId: String, proctored: Bool,
    status: AttemptStatus, startedAt: Instant, deadline: Instant, submittedAt: Instant? = nil, timedOut: Bool,
    score: Double? = nil, review: ExamReview? = nil, reviewComment: String? = nil
  ) {
    self.attemptId = attemptId
    self.learnerId = learnerId
    self.courseId = courseId
    self.examId = examId
    self.proctored = proctored
    self.status = status
    self.startedAt = startedAt
    self.deadline = deadline
    self.submittedAt = submittedAt
    self.timedOut = timedOut
    self.score = score
    self.review = review
    self.reviewComment = reviewComment
  }
}

public enum CreditRequestStatus: String, Sendable, CaseIterable {
  case pending, approved, rejected
}

public struct CreditRequest: Sendable, Equatable {
  public var requestId: String
  public var learnerId: String
  public var courseId: String
  public var providerId: String
  public var providerName: String
  public var status: CreditRequestStatus
  public var createdAt: Instant
  public var decidedAt: Instant?
  public var providerUrl: String
  public var providerStatusUrl: String?
  public var providerDescription: String?

  public init(
    requestId: String, learnerId: String, courseId: String, providerId: String, providerName: String,
    status: CreditRequestStatus, createdAt: Instant, decidedAt: Instant? = nil, providerUrl: String,
    providerStatusUrl: String? = nil, providerDescription: String? = nil
  ) {
    self.requestId = requestId
    self.learnerId = learnerId
    self.courseId = courseId
    self.providerId = providerId
    self.providerName = providerName
    self.status = status
    self.createdAt = createdAt
    self.decidedAt = decidedAt
    self.providerUrl = providerUrl
    self.providerStatusUrl = providerStatusUrl
    self.providerDescription = providerDescription
  }
}

public enum NotificationKind: String, Sendable, CaseIterable {
  case creditEligible, purchaseReceipt, creditDecision
}

public struct Notification: Sendable, Equatable {
  public var notificationId: Int64
  public var learnerId: String
  public var kind: NotificationKind
  public var to: String
  public var subject: String
  public var body: String
  public var createdAt: Instant

  public init(
    notificationId: Int64, learnerId: String, kind: NotificationKind, to: String, subject: String,
    body: String, createdAt: Instant
  ) {
    self.notificationId = notificationId
    self.learnerId = learnerId
    self.kind = kind
    self.to = to
    self.subject = subject
    self.body = body
    self.createdAt = createdAt
  }
}

public struct Event: Sendable, Equatable {
  public var eventId: Int64
  public var at: Instant
  public var actor: String
  public var kind: String
  public var requirementId: String?
  public var from: String?
  public var to: String?
  public var detail: String?

  public init(
    eventId: Int64, at: Instant, actor: String, kind: String, requirementId: String? = nil,
    from: String? = nil, to: String? = nil, detail: String? = nil
  ) {
    self.eventId = eventId
    self.at = at
    self.actor = actor
    self.kind = kind
    self.requirementId = requirementId
    self.from = from
    self.to = to
    self.detail = detail
  }
}

public enum CertificateStatus: String, Sendable {
  case notEarned, downloadable
}
