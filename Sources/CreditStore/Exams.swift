import CreditCore

// Exam attempts, scores and time grants.
extension SQLStore {
  public func attempt(_ attemptId: String) throws -> ExamAttempt? {
    try flush()
    return try connection.one(
      SQLText.attemptById, [.text(attemptId)], Rows.attempt)
  }

  public func currentAttempt(learnerId: String, courseId: String, examId: String) throws -> ExamAttempt? {
    try flush()
    return try connection.one(
      SQLText.currentAttempt,
      [.text(learnerId), .text(courseId), .text(examId)], Rows.attempt)
  }

  public func insertAttempt(_ a: ExamAttempt, seq: Int64) throws {
    try flush()
    try connection.run(
      """
      INSERT INTO exam_attempts (attempt_id, learner_id, course_id, exam_id, proctored, status, started_at, deadline,
        seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [
        .text(a.attemptId), .text(a.learnerId), .text(a.courseId), .text(a.examId), .bool(a.proctored),
        .text(a.status.rawValue), .int(a.startedAt), .int(a.deadline), .int(seq),
      ])
  }

  public func updateAttempt(_ a: ExamAttempt) throws {
    try flush()
    try connection.run(
      "UPDATE exam_attempts SET status = ?, deadline = ?, submitted_at = ?, timed_out = ? WHERE attempt_id = ?",
      [
        .text(a.status.rawValue), .int(a.deadline), .optional(a.submittedAt), .bool(a.timedOut),
        .text(a.attemptId),
      ])
  }

  public func reviewAttempt(_ a: ExamAttempt, at: Instant) throws {
    try flush()
    try connection.run(
      "UPDATE exam_attempts SET status = ?, review = ?, review_comment = ?, reviewed_at = ? WHERE attempt_id = ?",
      [
        .text(a.status.rawValue), .optional(a.review?.rawValue), .optional(a.reviewComment), .int(at),
        .text(a.attemptId),
      ])
  }

  public func resetAttempt(_ a: ExamAttempt) throws {
    try flush()
    try connection.run("UPDATE exam_attempts SET current = 0 WHERE attempt_id = ?", [.text(a.attemptId)])
    try connection.run(
      "DELETE FROM exam_scores WHERE learner_id = ? AND course_id = ? AND exam_id = ?",
      [.text(a.learnerId), .text(a.courseId), .text(a.examId)])
  }

  public func examScore(learnerId: String, courseId: String, examId: String) throws -> Double? {
    try flush()
    return try connection.one(
      "SELECT score FROM exam_scores WHERE learner_id = ? AND course_id = ? AND exam_id = ?",
      [.text(learnerId), .text(courseId), .text(examId)]
    ) { $0.double(0) }
  }

  public func storeExamScore(learnerId: String, courseId: String, examId: String, score: Double, at: Instant)
    throws
  {
    try flush()
    try connection.run(
      """
      INSERT INTO exam_scores (learner_id, course_id, exam_id, score, recorded_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (learner_id, course_id, exam_id) DO UPDATE SET score = excluded.score,
        recorded_at = excluded.recorded_at
      """, [.text(learnerId), .text(courseId), .text(examId), .double(score), .int(at)])
  }

  public func extraMinutes(learnerId: String, courseId: String, examId: String) throws -> Int64? {
    try flush()
    return try connection.one(
      "SELECT extra_minutes FROM exam_time_grants WHERE learner_id = ? AND course_id = ? AND exam_id = ?",
      [.text(learnerId), .text(courseId), .text(examId)]
    ) { $0.int64(0) }
  }

  public func storeExtraMinutes(learnerId: String, courseId: String, examId: String, minutes: Int64) throws {
    try flush()
    try connection.run(
      """
      INSERT INTO exam_time_grants (learner_id, course_id, exam_id, extra_minutes) VALUES (?, ?, ?, ?)
      ON CONFLICT (learner_id, course_id, exam_id) DO UPDATE SET extra_minutes = excluded.extra_minutes
      """, [.text(learnerId), .text(courseId), .text(examId), .int(minutes)])
  }
}

/// Statements built once (an interpolated literal would be built again on every call).
extension SQLText {
  static let attemptById = "SELECT \(Rows.attempt) WHERE a.attempt_id = ?"
  static let currentAttempt =
    "SELECT \(Rows.attempt) WHERE a.learner_id = ? AND a.course_id = ? AND a.exam_id = ? AND a.current = 1"
}
