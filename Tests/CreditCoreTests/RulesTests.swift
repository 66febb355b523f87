import CreditCore
import Testing

/// 2026-06-30T23:59:59Z, the end of the course used throughout.
let courseEnd: Instant = 1_782_863_999

// MARK: - Grades

struct GradeCase: Sendable, CustomTestStringConvertible {
  let name: String
  let current: RequirementStatus
  let grade: Double
  let minGrade: Double
  let recordedAt: Instant
  /// nil: no change.
  let expected: RequirementStatus?
  /// Pieces the reason must contain.
  let reasonContains: [String]

  var testDescription: String { name }
}

@Suite struct GradeStatusTests {
  static let cases: [GradeCase] = [
    GradeCase(
      name: "below the minimum before the end stays pending with current and minimum", current: .pending,
      grade: 0.5, minGrade: 0.8, recordedAt: courseEnd - 86_400, expected: .pending,
      reasonContains: ["0.5", "0.8"]),
    GradeCase(
      name: "exactly the minimum before the end is satisfied", current: .pending, grade: 0.8, minGrade: 0.8,
      recordedAt: courseEnd - 86_400, expected: .satisfied, reasonContains: ["0.8"]),
    GradeCase(
      name: "above the minimum is satisfied with the final grade in the reason", current: .pending,
      grade: 0.86,
      minGrade: 0.8, recordedAt: courseEnd - 1, expected: .satisfied, reasonContains: ["0.86"]),
    GradeCase(
      name: "passing grade recorded at the end instant is satisfied", current: .pending, grade: 0.9,
      minGrade: 0.8,
      recordedAt: courseEnd, expected: .satisfied, reasonContains: ["0.9"]),
    GradeCase(
      name: "first passing grade one second after the end fails: deadline passed", current: .pending,
      grade: 0.9,
      minGrade: 0.8, recordedAt: courseEnd + 1, expected: .failed, reasonContains: ["deadline passed"]),
    GradeCase(
      name: "a pending requirement with a passing grade after the end fails", current: .submitted, grade: 1,
      minGrade: 0.8, recordedAt: courseEnd + 3600, expected: .failed, reasonContains: ["deadline passed"]),
    GradeCase(
      name: "satisfied stays on a later lower grade (rescoring)", current: .satisfied, grade: 0.1,
      minGrade: 0.8,
      recordedAt: courseEnd - 10, expected: nil, reasonContains: []),
    GradeCase(
      name: "satisfied stays on a later higher grade", current: .satisfied, grade: 0.99, minGrade: 0.8,
      recordedAt: courseEnd - 10, expected: nil, reasonContains: []),
    GradeCase(
      name: "satisfied stays on a lower grade after the end", current: .satisfied, grade: 0.1, minGrade: 0.8,
      recordedAt: courseEnd + 10, expected: nil, reasonContains: []),
    GradeCase(
      name: "failed stays on a later passing grade", current: .failed, grade: 0.95, minGrade: 0.8,
      recordedAt: courseEnd - 10, expected: nil, reasonContains: []),
    GradeCase(
      name: "declined stays on a passing grade", current: .declined, grade: 0.95, minGrade: 0.8,
      recordedAt: courseEnd - 10, expected: nil, reasonContains: []),
  ]

  @Test(arguments: cases)
  func gradeStatus(_ c: GradeCase) {
    let result = Rules.gradeStatus(
      current: c.current, grade: c.grade, minGrade: c.minGrade, recordedAt: c.recordedAt, courseEnd: courseEnd
    )
    #expect(result?.0 == c.expected)
    let reason = result?.1?.lowercased() ?? ""
    for piece in c.reasonContains {
      #expect(reason.contains(piece.lowercased()), "reason \(reason) lacks \(piece)")
    }
  }

  @Test func belowMinimumReasonNamesBothGrades() {
    let result = Rules.gradeStatus(
      current: .pending, grade: 0.42, minGrade: 0.75, recordedAt: courseEnd, courseEnd: courseEnd)
    #expect(result?.0 == .pending)
    #expect(result?.1 == "Current grade 0.42; the minimum is 0.75.")
  }
}

// MARK: - Eligibility

struct EligibilityCase: Sendable, CustomTestStringConvertible {
  let name: String
  let creditTrack: Bool
  let statuses: [RequirementStatus]
  let courseEnded: Bool
  let expected: Eligibility

  var testDescription: String { name }
}

@Suite struct EligibilityTests {
  static let cases: [EligibilityCase] = [
    EligibilityCase(
      name: "audit before the end", creditTrack: false, statuses: [.pending], courseEnded: false,
      expected: .notYetEligible),
    EligibilityCase(
      name: "audit with everything satisfied before the end", creditTrack: false, statuses: [.satisfied],
      courseEnded: false, expected: .notYetEligible),
    EligibilityCase(
      name: "audit after the end", creditTrack: false, statuses: [.satisfied], courseEnded: true,
      expected: .ineligible),
    EligibilityCase(
      name: "audit after a decline, before the end", creditTrack: false, statuses: [.pending, .declined],
      courseEnded: false, expected: .ineligible),
    EligibilityCase(
      name: "credit track, all satisfied", creditTrack: true, statuses: [.satisfied, .satisfied, .satisfied],
      courseEnded: false, expected: .eligible),
    EligibilityCase(
      name: "credit track, all satisfied, after the end", creditTrack: true,
      statuses: [.satisfied, .satisfied],
      courseEnded: true, expected: .eligible),
    EligibilityCase(
      name: "credit track with a pending", creditTrack: true, statuses: [.satisfied, .pending],
      courseEnded: false, expected: .notYetEligible),
    EligibilityCase(
      name: "credit track with a pending after the end", creditTrack: true, statuses: [.satisfied, .pending],
      courseEnded: true, expected: .notYetEligible),
    EligibilityCase(
      name: "credit track with a submitted after the end", creditTrack: true,
      statuses: [.satisfied, .submitted],
      courseEnded: true, expected: .notYetEligible),
    EligibilityCase(
      name: "credit track with a failed before the end", creditTrack: true, statuses: [.satisfied, .failed],
      courseEnded: false, expected: .notYetEligible),
    EligibilityCase(
      name: "credit track with a failed after the end", creditTrack: true, statuses: [.satisfied, .failed],
      courseEnded: true, expected: .ineligible),
    EligibilityCase(
      name: "credit track with a declined before the end", creditTrack: true,
      statuses: [.satisfied, .declined],
      courseEnded: false, expected: .ineligible),
    EligibilityCase(
      name: "credit track with a declined beside a failed after the end", creditTrack: true,
      statuses: [.failed, .declined], courseEnded: true, expected: .ineligible),
    EligibilityCase(
      name: "credit track with no requirements", creditTrack: true, statuses: [], courseEnded: false,
      expected: .notYetEligible),
    EligibilityCase(
      name: "credit track with no requirements after the end", creditTrack: true, statuses: [],
      courseEnded: true,
      expected: .notYetEligible),
  ]

  @Test(arguments: cases)
  func eligibility(_ c: EligibilityCase) {
    #expect(
      Rules.eligibility(creditTrack: c.creditTrack, statuses: c.statuses, courseEnded: c.courseEnded)
        == c.expected)
  }
}

// MARK: - Deadlines and certificate

@Suite struct DeadlineTests {
  static let windows: [(windowDays: Int64, expected: Instant)] = [
    (365, courseEnd + 365 * 86_400), (0, courseEnd), (30, courseEnd + 30 * 86_400),
  ]

  @Test(arguments: windows)
  func purchaseDeadlineIsEndPlusWindowDays(windowDays: Int64, expected: Instant) {
    #expect(Rules.purchaseDeadline(courseEnd: courseEnd, windowDays: windowDays, override: nil) == expected)
  }

  @Test func purchaseDeadlineOverrideWins() {
    let override = courseEnd + 400 * 86_400
    #expect(Rules.purchaseDeadline(courseEnd: courseEnd, windowDays: 365, override: override) == override)
  }

  static let certificateCases:
    [(verified: Bool, everApproved: Bool, grade: Double?, expected: CertificateStatus)] = [
      (true, true, 0.5, .downloadable),
      (true, true, 0.9, .downloadable),
      (true, true, 0.49999, .notEarned),
      (true, true, nil, .notEarned),
      (false, true, 0.9, .notEarned),
      (true, false, 0.9, .notEarned),
    ]

  @Test(arguments: certificateCases)
  func certificateNeedsVerifiedApprovedAndPassingGrade(
    verified: Bool, everApproved: Bool, grade: Double?, expected: CertificateStatus
  ) {
    #expect(
      Rules.certificate(verified: verified, everApproved: everApproved, grade: grade, passingGrade: 0.5)
        == expected)
  }
}

// MARK: - Exams

func attempt(
  status: AttemptStatus, proctored: Bool = true, startedAt: Instant = courseEnd - 7200,
  deadline: Instant = courseEnd - 3600, submittedAt: Instant? = nil, review: ExamReview? = nil
) -> ExamAttempt {
  ExamAttempt(
    attemptId: "a1", learnerId: "ada", courseId: "course-v1:Org+N1+R1", examId: "final", proctored: proctored,
    status: status, startedAt: startedAt, deadline: deadline, submittedAt: submittedAt, timedOut: false,
    review: review)
}

@Suite struct AttemptTimingTests {
  @Test func deadlineIsStartPlusLimitPlusExtraMinutes() {
    let start = courseEnd - 86_400
    #expect(
      Rules.attemptDeadline(startedAt: start, timeLimitMinutes: 90, extraMinutes: 30, courseEnd: courseEnd)
        == start + 120 * 60)
    #expect(
      Rules.attemptDeadline(startedAt: start, timeLimitMinutes: 90, extraMinutes: 0, courseEnd: courseEnd)
        == start + 90 * 60)
  }

  @Test func deadlineIsCappedAtCourseEnd() {
    #expect(
      Rules.attemptDeadline(
        startedAt: courseEnd - 600, timeLimitMinutes: 60, extraMinutes: 0, courseEnd: courseEnd)
        == courseEnd)
    #expect(
      Rules.attemptDeadline(
        startedAt: courseEnd - 3600, timeLimitMinutes: 30, extraMinutes: 30, courseEnd: courseEnd)
        == courseEnd)
  }

  @Test func startedPastTheDeadlineIsSubmittedAtTheDeadlineAndTimedOut() {
    let a = attempt(status: .started)
    let seen = Rules.attemptAt(a, now: a.deadline + 1)
    #expect(seen.status == .submitted)
    #expect(seen.submittedAt == a.deadline)
    #expect(seen.timedOut)
  }

  @Test func startedAtExactlyTheDeadlineIsStillStarted() {
    let a = attempt(status: .started)
    #expect(Rules.attemptAt(a, now: a.deadline) == a)
  }

  @Test(arguments: [AttemptStatus.submitted, .verified, .rejected, .error])
  func alreadySubmittedAttemptIsUnchangedPastTheDeadline(status: AttemptStatus) {
    let a = attempt(status: status, submittedAt: courseEnd - 5000)
    #expect(Rules.attemptAt(a, now: a.deadline + 86_400) == a)
  }

  @Test(arguments: [
    (ExamReview.clean, AttemptStatus.verified), (.rulesViolation, .rejected), (.suspicious, .rejected),
    (.notReviewed, .error),
  ])
  func reviewDecidesAttemptStatus(review: ExamReview, expected: AttemptStatus) {
    #expect(Rules.attemptStatus(after: review) == expected)
  }
}

struct ExamCase: Sendable, CustomTestStringConvertible {
  let name: String
  let current: RequirementStatus
  let attempt: ExamAttempt?
  let score: Double?
  let expected: RequirementStatus
  /// Whether a reason is expected (sticky states return none).
  let hasReason: Bool

  var testDescription: String { name }
}

@Suite struct ExamStatusTests {
  static let exam = Exam(
    courseId: "course-v1:Org+N1+R1", examId: "final", displayName: "Final exam", timeLimitMinutes: 60,
    passingScore: 0.7, proctored: true)

  static let cases: [ExamCase] = [
    ExamCase(
      name: "no attempt", current: .pending, attempt: nil, score: nil, expected: .pending, hasReason: true),
    ExamCase(
      name: "started", current: .pending, attempt: attempt(status: .started), score: nil, expected: .pending,
      hasReason: true),
    ExamCase(
      name: "started with a score already recorded", current: .pending, attempt: attempt(status: .started),
      score: 0.9, expected: .pending, hasReason: true),
    ExamCase(
      name: "submitted without score", current: .pending, attempt: attempt(status: .submitted), score: nil,
      expected: .submitted, hasReason: true),
    ExamCase(
      name: "submitted with a passing score, not yet reviewed", current: .pending,
      attempt: attempt(status: .submitted), score: 0.9, expected: .submitted, hasReason: true),
    ExamCase(
      name: "submitted with a low score fails", current: .submitted, attempt: attempt(status: .submitted),
      score: 0.5, expected: .failed, hasReason: true),
    ExamCase(
      name: "verified without score stays submitted", current: .submitted,
      attempt: attempt(status: .verified, review: .clean), score: nil, expected: .submitted, hasReason: true),
    ExamCase(
      name: "verified with a passing score is satisfied", current: .submitted,
      attempt: attempt(status: .verified, review: .clean), score: 0.9, expected: .satisfied, hasReason: true),
    ExamCase(
      name: "verified with exactly the passing score is satisfied", current: .submitted,
      attempt: attempt(status: .verified, review: .clean), score: 0.7, expected: .satisfied, hasReason: true),
    ExamCase(
      name: "verified with a low score fails", current: .submitted,
      attempt: attempt(status: .verified, review: .clean), score: 0.69, expected: .failed, hasReason: true),
    ExamCase(
      name: "rejected fails", current: .submitted, attempt: attempt(status: .rejected, review: .suspicious),
      score: nil, expected: .failed, hasReason: true),
    ExamCase(
      name: "rejected with a passing score fails", current: .submitted,
      attempt: attempt(status: .rejected, review: .rulesViolation), score: 1, expected: .failed,
      hasReason: true),
    ExamCase(
      name: "review error stays submitted", current: .submitted,
      attempt: attempt(status: .error, review: .notReviewed), score: nil, expected: .submitted,
      hasReason: true),
    ExamCase(
      name: "review error with a passing score stays submitted", current: .submitted,
      attempt: attempt(status: .error, review: .notReviewed), score: 0.9, expected: .submitted,
      hasReason: true),
    ExamCase(
      name: "declined is sticky", current: .declined, attempt: attempt(status: .verified, review: .clean),
      score: 0.9, expected: .declined, hasReason: false),
    ExamCase(
      name: "declined is sticky with no attempt", current: .declined, attempt: nil, score: nil,
      expected: .declined,
      hasReason: false),
    ExamCase(
      name: "satisfied is sticky after a rejection", current: .satisfied,
      attempt: attempt(status: .rejected, review: .suspicious), score: 0.1, expected: .satisfied,
      hasReason: false),
    ExamCase(
      name: "unproctored attempt does not count", current: .pending,
      attempt: attempt(status: .submitted, proctored: false), score: 0.9, expected: .pending, hasReason: true),
  ]

  @Test(arguments: cases)
  func examStatus(_ c: ExamCase) {
    let (status, reason) = Rules.examStatus(
      current: c.current, exam: Self.exam, attempt: c.attempt, score: c.score)
    #expect(status == c.expected)
    #expect((reason != nil) == c.hasReason)
  }

  @Test func lowScoreReasonNamesScoreAndPassingScore() {
    let (_, reason) = Rules.examStatus(
      current: .submitted, exam: Self.exam, attempt: attempt(status: .submitted), score: 0.5)
    #expect(reason?.contains("0.5") == true)
    #expect(reason?.contains("0.7") == true)
  }
}

// MARK: - Reverification

func verification(_ status: VerificationStatus, reason: String? = nil) -> Verification {
  Verification(
    verificationId: "v1", learnerId: "ada", kind: .reverification, courseId: "course-v1:Org+N1+R1",
    checkpointId: "midterm", status: status, submittedAt: courseEnd - 5000, reason: reason)
}

@Suite struct ReverificationStatusTests {
  @Test(arguments: [
    (RequirementStatus.pending, nil as VerificationStatus?, RequirementStatus.pending),
    (.pending, .submitted, .submitted),
    (.submitted, .approved, .satisfied),
    (.submitted, .denied, .failed),
    // A denied learner may submit again: failed is not final.
    (.failed, .submitted, .submitted),
    (.failed, .approved, .satisfied),
    (.declined, .approved, .declined),
    (.declined, nil, .declined),
    (.satisfied, .denied, .satisfied),
  ])
  func statusFollowsLatestSubmission(
    current: RequirementStatus, latest: VerificationStatus?, expected: RequirementStatus
  ) {
    let (status, _) = Rules.reverificationStatus(
      current: current, latest: latest.map { verification($0) }, displayName: "Midterm check")
    #expect(status == expected)
  }

  @Test func deniedReasonCarriesReviewerReasonAndNamesTheCheckpoint() {
    let (status, reason) = Rules.reverificationStatus(
      current: .submitted, latest: verification(.denied, reason: "face not visible"),
      displayName: "Midterm check")
    #expect(status == .failed)
    #expect(reason?.contains("face not visible") == true)
    #expect(reason?.contains("Midterm check") == true)
  }
}

// MARK: - Provider decisions and signing

@Suite struct DecisionTimestampTests {
  static let now: Instant = 1_790_000_000

  static let cases: [(timestamp: Int64, accepted: Bool)] = [
    (now - 15 * 60, true), (now - 15 * 60 - 1, false), (now + 5 * 60, true), (now + 5 * 60 + 1, false),
    (now, true),
  ]

  @Test(arguments: cases)
  func acceptedFromFifteenMinutesOldToFiveMinutesAhead(timestamp: Int64, accepted: Bool) {
    #expect(Rules.decisionTimestampAccepted(timestamp, now: Self.now) == accepted)
  }
}

@Suite struct SigningMessageTests {
  @Test func keysSortedAscendingAndConcatenatedWithoutSeparator() {
    let message = Rules.signingMessage([
      ("timestamp", "1700000000"), ("status", "approved"), ("request_uuid", "abc"),
    ])
    #expect(message == "request_uuid:abcstatus:approvedtimestamp:1700000000")
  }

  @Test func keysSortByBytesSoUppercaseAndUnderscoreComeBeforeLowercase() {
    // 'B' (0x42) < '_' (0x5F) < 'a' (0x61); "a" is a prefix of "a_b" and comes first.
    let message = Rules.signingMessage([("b", "2"), ("a_b", "4"), ("a", "1"), ("B", "3")])
    #expect(message == "B:3a:1a_b:4b:2")
  }

  @Test func nonASCIIKeysSortByUTF8Bytes() {
    // U+FF5E is EF BD 9E and U+1F600 is F0 9F 98 80 in UTF-8 (in UTF-16 the order would be reversed).
    let message = Rules.signingMessage([("\u{1F600}", "y"), ("\u{FF5E}", "x"), ("z", "w")])
    #expect(message == "z:w\u{FF5E}:x\u{1F600}:y")
  }

  @Test func openEdXParameterSetInSortedOrder() {
    let parameters = [
      ("user_username", "ada"), ("course_org", "Org"), ("course_num", "N1"), ("course_run", "R1"),
      ("final_grade", "0.86"), ("timestamp", "1"), ("request_uuid", "r"), ("user_email", "a@x"),
      ("user_full_name", "Ada"), ("user_mailing_address", ""), ("user_country", "GB"),
      ("enrollment_timestamp", "0"), ("course_completion_timestamp", "2"),
    ]
    #expect(
      Rules.signingMessage(parameters)
        == "course_completion_timestamp:2course_num:N1course_org:Orgcourse_run:R1enrollment_timestamp:0"
        + "final_grade:0.86request_uuid:rtimestamp:1user_country:GBuser_email:a@xuser_full_name:Ada"
        + "user_mailing_address:user_username:ada")
  }
}

// MARK: - Formatting

@Suite struct FormatGradeTests {
  @Test(arguments: [
    (0.86, "0.86"), (1, "1.0"), (0, "0.0"), (1.0 / 3.0, "0.33333"), (0.123456, "0.12346"), (0.5, "0.5"),
    (0.999996, "1.0"), (0.00001, "0.00001"), (0.000004, "0.0"), (0.7, "0.7"),
  ])
  func atMostFiveDecimalsNoTrailingZerosAtLeastOneDigit(grade: Double, expected: String) {
    #expect(Rules.formatGrade(grade) == expected)
  }
}
