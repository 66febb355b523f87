/// How a review names the attempt it decides.
public enum AttemptAddress: Sendable {
  case id(String)
  case current(learnerId: String, courseId: String, examId: String)
}

extension CreditService {
  func attempt(_ id: String) throws -> ExamAttempt {
    guard let a = try store.attempt(id) else {
      throw CreditError.notFound("exam attempt", id, field: "attemptId", reason: "attempt_not_found")
    }
    return a
  }

  /// An exam of the course: from the standing when it is a requirement's, else from the store.
  func exam(_ s: Standing, _ examId: String) throws -> Exam {
    if let e = s.exams[examId] { return e }
    return try exam(s.course.courseId, examId)
  }

  /// Stores, as of its deadline, the automatic submission of every attempt of this learner and
  /// course that ran out of time (no background job: whoever writes next records it).
  func recordTimeouts(_ s: inout Standing) throws {
    let now = self.now
    for i in s.attempts.indices {
      var a = s.attempts[i].attempt
      guard a.status == .started, a.deadline < now else { continue }
      a.status = .submitted
      a.submittedAt = a.deadline
      a.timedOut = true
      try store.updateAttempt(a)
      s.attempts[i].attempt = a
      try recordEvent(
        learnerId: a.learnerId, courseId: a.courseId, kind: "examTimedOut",
        requirementId: "proctoredExam:\(a.examId)",
        from: "started", to: "submitted", detail: a.attemptId, at: a.deadline, actor: "system")
    }
  }

  public func startExam(learnerId: String, courseId: String, examId: String) throws -> ExamAttempt {
    var s = try settle(learnerId, courseId)
    let exam = try exam(s, examId)
    if let existing = s.currentAttempt(examId) {
      throw CreditError.invalidState(
        "Exam '\(examId)' was already started (attempt \(existing.attemptId)); there is one attempt, which staff "
          + "may reset.", reason: "already_started")
    }
    guard now <= s.course.endsAt else {
      throw CreditError(
        .deadlinePassed, "\(courseId) has ended; its exams can no longer be started.", reason: "course_ended",
        field: "courseId")
    }
    let rid = Requirement.id(kind: .proctoredExam, examId: examId)
    let declined = s.stored[rid]?.status == .declined
    let proctored = exam.proctored && !declined
    if proctored {
      guard let v = s.latestApprovedInitial, Rules.isValidApproval(v, now: now) else {
        throw CreditError.invalidState(
          "A proctored exam needs an approved, unexpired identity verification; call verifyIdentity first.",
          reason: "verification_required")
      }
    }
    let extra = try store.extraMinutes(learnerId: learnerId, courseId: courseId, examId: examId) ?? 0
    let deadline = Rules.attemptDeadline(
      startedAt: now, timeLimitMinutes: exam.timeLimitMinutes, extraMinutes: extra, courseEnd: s.course.endsAt
    )
    let seq = try store.nextSequence("attempt")
    let attempt = ExamAttempt(
      attemptId: "att_\(seq)", learnerId: learnerId, courseId: courseId, examId: examId, proctored: proctored,
      status: .started, startedAt: now, deadline: deadline, submittedAt: nil, timedOut: false,
      score: s.scores[examId], review: nil, reviewComment: nil)
    try store.insertAttempt(attempt, seq: seq)
    s.store(attempt)
    try recordEvent(
      learnerId: learnerId, courseId: courseId, kind: "examStarted", requirementId: rid, to: "started",
      detail: "\(attempt.attemptId), deadline \(RFC3339.format(deadline))\(proctored ? "" : ", unproctored")")
    try sync(&s)
    return attempt
  }

  public func submitExam(learnerId: String, courseId: String, examId: String) throws -> ExamAttempt {
    var s = try settle(learnerId, courseId)
    _ = try exam(s, examId)
    guard var a = s.currentAttempt(examId) else {
      throw CreditError.invalidState(
        "Exam '\(examId)' was never started; call startExam first.", reason: "exam_not_started")
    }
    guard a.status == .started else { return a }  // already submitted (perhaps automatically): as it is
    a.status = .submitted
    a.submittedAt = now
    try store.updateAttempt(a)
    s.store(a)
    try recordEvent(
      learnerId: learnerId, courseId: courseId, kind: "examSubmitted",
      requirementId: "proctoredExam:\(examId)",
      from: "started", to: "submitted", detail: a.attemptId)
    try sync(&s)
    return a
  }

  public func reviewExam(_ address: AttemptAddress, review: ExamReview, comment: String?) throws
    -> ExamAttempt
  {
    var a: ExamAttempt
    switch address {
    case .id(let id):
      a = try attempt(id)
    case .current(let learnerId, let courseId, let examId):
      _ = try learner(learnerId)
      _ = try course(courseId)
      _ = try exam(courseId, examId)
      guard let current = try store.currentAttempt(learnerId: learnerId, courseId: courseId, examId: examId)
      else {
        throw CreditError(
          .notFound, "Learner '\(learnerId)' has no attempt at exam '\(examId)'.",
          reason: "attempt_not_found",
          field: "examId")
      }
      a = current
    }
    var s = try settle(a.learnerId, a.courseId)
    // As settled (it may have timed out just now).
    if let settled = s.attempts.first(where: { $0.attempt.attemptId == a.attemptId }) { a = settled.attempt }
    guard a.proctored else {
      throw CreditError.invalidState(
        "Attempt \(a.attemptId) was not proctored; there is nothing to review.",
        reason: "not_proctored")
    }
    switch a.status {
    case .started:
      throw CreditError.invalidState(
        "Attempt \(a.attemptId) has not been submitted yet; review it after submission.",
        reason: "not_submitted")
    case .verified, .rejected:
      throw CreditError.invalidState(
        "Attempt \(a.attemptId) was already reviewed (\(a.review?.rawValue ?? a.status.rawValue)); only a "
          + "notReviewed session can be reviewed again.", reason: "already_reviewed")
    case .submitted, .error:
      break
    }
    let from = a.status
    a.status = Rules.attemptStatus(after: review)
    a.review = review
    a.reviewComment = comment
    try store.reviewAttempt(a, at: now)
    if let i = s.attempts.firstIndex(where: { $0.attempt.attemptId == a.attemptId }) {
      s.attempts[i].attempt = a
    }
    try recordEvent(
      learnerId: a.learnerId, courseId: a.courseId, kind: "examReviewed",
      requirementId: "proctoredExam:\(a.examId)",
      from: from.rawValue, to: a.status.rawValue, detail: "\(a.attemptId): \(review.rawValue)")
    try sync(&s)
    return a
  }

  /// Sets the learner's total extra minutes for an exam (not additive) and moves the deadline of an
  /// attempt in progress, to a past instant if so (the attempt is then submitted at that deadline).
  public func grantExamTime(learnerId: String, courseId: String, examId: String, extraMinutes: Int64) throws {
    var s = try settle(learnerId, courseId)
    let exam = try exam(s, examId)
    let previous = try store.extraMinutes(learnerId: learnerId, courseId: courseId, examId: examId) ?? 0
    try store.storeExtraMinutes(
      learnerId: learnerId, courseId: courseId, examId: examId, minutes: extraMinutes)
    if previous != extraMinutes {
      try recordEvent(
        learnerId: learnerId, courseId: courseId, kind: "examTimeGranted",
        requirementId: "proctoredExam:\(examId)",
        from: String(previous), to: String(extraMinutes))
    }
    if var a = s.currentAttempt(examId), a.status == .started {
      a.deadline = Rules.attemptDeadline(
        startedAt: a.startedAt, timeLimitMinutes: exam.timeLimitMinutes, extraMinutes: extraMinutes,
        courseEnd: s.course.endsAt)
      try store.updateAttempt(a)
      s.store(a)
      try recordTimeouts(&s)
    }
    try sync(&s)
  }

  public func resetExamAttempt(learnerId: String, courseId: String, examId: String) throws -> CreditStatus {
    var s = try settle(learnerId, courseId)
    _ = try exam(s, examId)
    guard !s.frozen else {
      throw CreditError.invalidState(
        "Credit was already purchased for \(courseId); requirements can no longer change.",
        reason: "credit_requested")
    }
    guard var a = s.currentAttempt(examId) else {
      throw CreditError(
        .notFound, "Learner '\(learnerId)' has no attempt at exam '\(examId)' to reset.",
        reason: "attempt_not_found",
        field: "examId")
    }
    try store.resetAttempt(a)
    s.scores[examId] = nil
    a.score = nil
    s.store(a, current: false)
    try recordEvent(
      learnerId: learnerId, courseId: courseId, kind: "examAttemptReset",
      requirementId: "proctoredExam:\(examId)",
      from: a.status.rawValue, detail: a.attemptId)
    try sync(&s)
    return s.synced!
  }
}
