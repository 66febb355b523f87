/// The rules of the credit journey, as plain functions over values: no database, no JSON.
public enum Rules {
  // MARK: Grades

  /// The status of the `grade` requirement after a course grade is recorded.
  ///
  /// - Passing (>= minGrade) at or before the course end: satisfied.
  /// - A first passing grade after the end: failed (the deadline passed).
  /// - Lower: pending, with the current and the minimum grade.
  /// - `satisfied` and `failed` are final: a later grade (rescoring) changes neither.
  public static func gradeStatus(
    current: RequirementStatus, grade: Double, minGrade: Double, recordedAt: Instant, courseEnd: Instant
  ) -> (RequirementStatus, String?)? {
    switch current {
    case .satisfied, .failed, .declined: return nil
    case .pending, .submitted: break
    }
    if grade >= minGrade {
      if recordedAt <= courseEnd {
        return (
          .satisfied, "Final grade \(formatGrade(grade)) meets the minimum of \(formatGrade(minGrade))."
        )
      }
      return (
        .failed,
        "Deadline passed: the passing grade \(formatGrade(grade)) was recorded after the course ended."
      )
    }
    return (.pending, "Current grade \(formatGrade(grade)); the minimum is \(formatGrade(minGrade)).")
  }

  // MARK: Eligibility

  /// `eligible` when every requirement is satisfied; `ineligible` when one is declined, or failed
  /// after the course end (and, for an audit learner, once the course has ended); else `notYetEligible`.
  public static func eligibility(creditTrack: Bool, statuses: [RequirementStatus], courseEnded: Bool)
    -> Eligibility
  {
    if statuses.contains(.declined) { return .ineligible }
    if !creditTrack { return courseEnded ? .ineligible : .notYetEligible }
    if courseEnded, statuses.contains(.failed) { return .ineligible }
    if !statuses.isEmpty, statuses.allSatisfy({ $0 == .satisfied }) { return .eligible }
    return .notYetEligible
  }

  /// The last instant at which an eligible learner may buy credit.
  public static func purchaseDeadline(courseEnd: Instant, windowDays: Int64, override: Instant?) -> Instant {
    override ?? courseEnd + windowDays * 86_400
  }

  // MARK: Certificate

  /// Verified track, an identity approval ever given, and a course grade at least the passing grade.
  public static func certificate(verified: Bool, everApproved: Bool, grade: Double?, passingGrade: Double)
    -> CertificateStatus
  {
    guard verified, everApproved, let grade, grade >= passingGrade else { return .notEarned }
    return .downloadable
  }

  // MARK: Exams

  /// The earlier of start + time limit + extra time, and the course end.
  public static func attemptDeadline(
    startedAt: Instant, timeLimitMinutes: Int64, extraMinutes: Int64, courseEnd: Instant
  ) -> Instant {
    min(startedAt + (timeLimitMinutes + extraMinutes) * 60, courseEnd)
  }

  /// An attempt as it stands at `now`: one still `started` past its deadline was submitted at the
  /// deadline, automatically.
  public static func attemptAt(_ a: ExamAttempt, now: Instant) -> ExamAttempt {
    guard a.status == .started, now > a.deadline else { return a }
    var t = a
    t.status = .submitted
    t.submittedAt = a.deadline
    t.timedOut = true
    return t
  }

  /// The attempt status a review leads to.
  public static func attemptStatus(after review: ExamReview) -> AttemptStatus {
    switch review {
    case .clean: .verified
    case .rulesViolation, .suspicious: .rejected
    case .notReviewed: .error
    }
  }

  /// The status of a `proctoredExam` requirement from its attempt and score.
  /// `declined` and `satisfied` are final; nil means no change from `current`.
  public static func examStatus(
    current: RequirementStatus, exam: Exam, attempt: ExamAttempt?, score: Double?
  ) -> (RequirementStatus, String?) {
    if current == .declined || current == .satisfied { return (current, nil) }
    let name = exam.displayName
    guard let attempt, attempt.status != .started else {
      return (.pending, "Take the proctored exam '\(name)'.")
    }
    if !attempt.proctored {
      return (.pending, "The exam '\(name)' was taken without proctoring.")
    }
    if attempt.status == .rejected {
      return (
        .failed,
        "The proctoring review of '\(name)' did not pass (\(attempt.review?.rawValue ?? "rejected"))."
      )
    }
    if let score, score < exam.passingScore {
      return (
        .failed,
        "Exam score \(formatGrade(score)) is below the passing score of \(formatGrade(exam.passingScore))."
      )
    }
    if attempt.status == .verified, let score {
      return (
        .satisfied,
        "Passed '\(name)' with \(formatGrade(score)) and a clean proctoring review."
      )
    }
    switch (attempt.status, score) {
    case (.verified, nil): return (.submitted, "The proctoring review passed; waiting for the exam score.")
    case (.error, _):
      return (.submitted, "The proctoring session of '\(name)' is waiting to be reviewed again.")
    default: return (.submitted, "Submitted; waiting for the proctoring review and the score.")
    }
  }

  // MARK: Verification

  /// The status of a `reverification` requirement from the latest submission at its checkpoint.
  public static func reverificationStatus(
    current: RequirementStatus, latest: Verification?, displayName: String
  ) -> (RequirementStatus, String?) {
    if current == .declined || current == .satisfied { return (current, nil) }
    guard let latest else {
      return (.pending, "Complete the identity check '\(displayName)' with your webcam.")
    }
    switch latest.status {
    case .submitted: return (.submitted, "Your photo for '\(displayName)' is waiting for review.")
    case .approved: return (.satisfied, nil)
    case .denied:
      return (
        .failed,
        "The photo for '\(displayName)' was denied"
          + (latest.reason.map { " (\($0))" } ?? "") + "; you may submit again until the course ends."
      )
    }
  }

  /// An initial approval lasts 365 days.
  public static let verificationValidity: Instant = 365 * 86_400

  public static func isValidApproval(_ v: Verification, now: Instant) -> Bool {
    v.status == .approved && (v.expiresAt.map { now <= $0 } ?? true)
  }

  // MARK: Provider decisions

  /// A decision timestamp is accepted from 15 minutes old to 5 minutes ahead, both included.
  public static func decisionTimestampAccepted(_ ts: Int64, now: Instant) -> Bool {
    ts >= now - 15 * 60 && ts <= now + 5 * 60
  }

  /// The text that is signed: `key:value` for every parameter, keys ascending, no separator.
  public static func signingMessage(_ parameters: [(String, String)]) -> String {
    parameters.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }.map { "\($0.0):\($0.1)" }.joined()
  }

  // MARK: Formatting

  /// A grade or score with at most 5 decimals, no trailing zeros, at least one digit after the
  /// point: `0.86`, `1.0`, `0.33333`.
  public static func formatGrade(_ g: Double) -> String {
    let scaled = Int64((g * 100_000).rounded())
    let whole = scaled / 100_000
    var frac = String(scaled % 100_000)
    frac = String(repeating: "0", count: 5 - frac.count) + frac
    while frac.count > 1, frac.hasSuffix("0") { frac.removeLast() }
    return "\(whole).\(frac)"
  }

}
