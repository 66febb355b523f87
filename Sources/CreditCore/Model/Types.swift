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
      let two = String(digits.prefix(2)).padding(toLength: 2, withPad: "0", startingAt: 0)
      cents += Int64(two)!
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
}

public struct Offer: Sendable, Equatable {
  public var courseId: String
  public var providerId: String
  public var displayName: String
  public var price: Money
}

public struct Exam: Sendable, Equatable {
  public var courseId: String
  public var examId: String
  public var displayName: String
  public var timeLimitMinutes: Int64
  public var passingScore: Double
  public var proctored: Bool
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
}

public struct Learner: Sendable, Equatable {
  public var learnerId: String
  public var fullName: String
  public var email: String
  public var country: String
  public var mailingAddress: String?
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
}

/// The "Requirements for Course Credit" section.
public struct CreditStatus: Sendable, Equatable {
  public var learnerId: String
  public var courseId: String
  public var creditTrack: Bool
  public var eligibility: Eligibility
  public var purchaseDeadline: Instant?
  public var requirements: [RequirementState]
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
}

public enum CertificateStatus: String, Sendable {
  case notEarned, downloadable
}
