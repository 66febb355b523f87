import SQLite

/// How a review names the attempt it decides.
public enum AttemptAddress: Sendable {
  case id(String)
  case current(learnerId: String, courseId: String, examId: String)
}

extension CreditService {
  func extraMinutes(_ learnerId: String, _ courseId: String, _ examId: String) throws -> Int64 {
    try db.scalarInt(
      "SELECT extra_minutes FROM exam_time_grants WHERE learner_id = ? AND course_id = ? AND exam_id = ?",
      [.text(learnerId), .text(courseId), .text(examId)]) ?? 0
  }

  func attempt(_ id: String) throws -> ExamAttempt {
    guard let a = try db.queryOne("SELECT \(Rows.attempt) WHERE a.attempt_id = ?", [.text(id)], Rows.attempt)
    else {
      throw CreditError.notFound("exam attempt", id, field: "attemptId", reason: "attempt_not_found")
    }
    return a
  }

  /// Stores, as of its deadline, the automatic submission of every attempt of this learner and
  /// course that ran out of time (no background job: whoever writes next records it).
  func recordTimeouts(_ learnerId: String, _ courseId: String) throws {
    let expired = try db.query(
      "SELECT \(Rows.attempt) WHERE a.learner_id = ? AND a.course_id = ? AND a.status = 'started' AND a.deadline < ?",
      [.text(learnerId), .text(courseId), .int(now)], Rows.attempt)
    for a in expired {
      try db.run(
        "UPDATE exam_attempts SET status = 'submitted', submitted_at = deadline, timed_out = 1 WHERE attempt_id = ?",
        [.text(a.attemptId)])
      try recordEvent(
        learnerId: learnerId, courseId: courseId, kind: "examTimedOut",
        requirementId: "proctoredExam:\(a.examId)",
        from: "started", to: "submitted", detail: a.attemptId, at: a.deadline, actor: "system")
    }
  }

  public func startExam(learnerId: String, courseId: String, examId: String) throws -> ExamAttempt {
    let s = try settle(learnerId, courseId)
    let exam = try exam(courseId, examId)
    if let existing = try currentAttempt(learnerId, courseId, examId) {
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
      guard let v = try latestApprovedInitial(learnerId), Rules.isValidApproval(v, now: now) else {
        throw CreditError.invalidState(
          "A proctored exam needs an approved, unexpired identity verification; call verifyIdentity first.",
          reason: "verification_required")
      }
    }
    let deadline = Rules.attemptDeadline(
      startedAt: now, timeLimitMinutes: exam.timeLimitMinutes,
      extraMinutes: try extraMinutes(learnerId, courseId, examId), courseEnd: s.course.endsAt)
    let seq = try nextSequence("attempt")
    let id = "att_\(seq)"
    try db.run(
      """
      INSERT INTO exam_attempts (attempt_id, learner_id, course_id, exam_id, proctored, status, started_at, deadline,
        seq) VALUES (?, ?, ?, ?, ?, 'started', ?, ?, ?)
      """,
      [
        .text(id), .text(learnerId), .text(courseId), .text(examId), .bool(proctored), .int(now),
        .int(deadline), .int(seq),
      ])
    try recordEvent(
      learnerId: learnerId, courseId: courseId, kind: "examStarted", requirementId: rid, to: "started",
      detail: "\(id), deadline \(RFC3339.format(deadline))\(proctored ? "" : ", unproctored")")
    try sync(learnerId, courseId)
    return try attempt(id)
  }

  public func submitExam(learnerId: String, courseId: String, examId: String) throws -> ExamAttempt {
    _ = try settle(learnerId, courseId)
    _ = try exam(courseId, examId)
    guard let a = try currentAttempt(learnerId, courseId, examId) else {
      throw CreditError.invalidState(
        "Exam '\(examId)' was never started; call startExam first.", reason: "exam_not_started")
    }
    guard a.status == .started else { return a }  // already submitted (perhaps automatically): as it is
    try db.run(
      "UPDATE exam_attempts SET status = 'submitted', submitted_at = ? WHERE attempt_id = ?",
      [.int(now), .text(a.attemptId)])
    try recordEvent(
      learnerId: learnerId, courseId: courseId, kind: "examSubmitted",
      requirementId: "proctoredExam:\(examId)",
      from: "started", to: "submitted", detail: a.attemptId)
    try sync(learnerId, courseId)
    return try attempt(a.attemptId)
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
      guard let current = try currentAttempt(learnerId, courseId, examId) else {
        throw CreditError(
          .notFound, "Learner '\(learnerId)' has no attempt at exam '\(examId)'.",
          reason: "attempt_not_found",
          field: "examId")
      }
      a = current
    }
    _ = try settle(a.learnerId, a.courseId)
    a = try attempt(a.attemptId)
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
    let status = Rules.attemptStatus(after: review)
    try db.run(
      "UPDATE exam_attempts SET status = ?, review = ?, review_comment = ?, reviewed_at = ? WHERE attempt_id = ?",
      [.text(status.rawValue), .text(review.rawValue), .optional(comment), .int(now), .text(a.attemptId)])
    try recordEvent(
      learnerId: a.learnerId, courseId: a.courseId, kind: "examReviewed",
      requirementId: "proctoredExam:\(a.examId)",
      from: a.status.rawValue, to: status.rawValue, detail: "\(a.attemptId): \(review.rawValue)")
    try sync(a.learnerId, a.courseId)
    return try attempt(a.attemptId)
  }

  /// Sets the learner's total extra minutes for an exam (not additive) and moves the deadline of an
  /// attempt in progress, to a past instant if so (the attempt is then submitted at that deadline).
  public func grantExamTime(learnerId: String, courseId: String, examId: String, extraMinutes: Int64) throws {
    let s = try settle(learnerId, courseId)
    let exam = try exam(courseId, examId)
    let previous = try self.extraMinutes(learnerId, courseId, examId)
    try db.run(
      """
      INSERT INTO exam_time_grants (learner_id, course_id, exam_id, extra_minutes) VALUES (?, ?, ?, ?)
      ON CONFLICT (learner_id, course_id, exam_id) DO UPDATE SET extra_minutes = excluded.extra_minutes
      """, [.text(learnerId), .text(courseId), .text(examId), .int(extraMinutes)])
    if previous != extraMinutes {
      try recordEvent(
        learnerId: learnerId, courseId: courseId, kind: "examTimeGranted",
        requirementId: "proctoredExam:\(examId)",
        from: String(previous), to: String(extraMinutes))
    }
    if let a = try currentAttempt(learnerId, courseId, examId), a.status == .started {
      let deadline = Rules.attemptDeadline(
        startedAt: a.startedAt, timeLimitMinutes: exam.timeLimitMinutes, extraMinutes: extraMinutes,
        courseEnd: s.course.endsAt)
      try db.run(
        "UPDATE exam_attempts SET deadline = ? WHERE attempt_id = ?", [.int(deadline), .text(a.attemptId)])
      try recordTimeouts(learnerId, courseId)
    }
    try sync(learnerId, courseId)
  }

  public func resetExamAttempt(learnerId: String, courseId: String, examId: String) throws -> CreditStatus {
    let s = try settle(learnerId, courseId)
    _ = try exam(courseId, examId)
    guard !s.frozen else {
      throw CreditError.invalidState(
        "Credit was already purchased for \(courseId); requirements can no longer change.",
        reason: "credit_requested")
    }
    guard let a = try currentAttempt(learnerId, courseId, examId) else {
      throw CreditError(
        .notFound, "Learner '\(learnerId)' has no attempt at exam '\(examId)' to reset.",
        reason: "attempt_not_found",
        field: "examId")
    }
    try db.run("UPDATE exam_attempts SET current = 0 WHERE attempt_id = ?", [.text(a.attemptId)])
    try db.run(
      "DELETE FROM exam_scores WHERE learner_id = ? AND course_id = ? AND exam_id = ?",
      [.text(learnerId), .text(courseId), .text(examId)])
    try recordEvent(
      learnerId: learnerId, courseId: courseId, kind: "examAttemptReset",
      requirementId: "proctoredExam:\(examId)",
      from: a.status.rawValue, detail: a.attemptId)
    return try creditStatusAfterSync(learnerId, courseId)
  }
}
