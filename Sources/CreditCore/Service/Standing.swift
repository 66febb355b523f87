import SQLite

/// Everything that decides where one learner stands in one course, loaded in one place.
struct Standing {
  var learner: Learner
  var course: Course
  var mode: EnrollmentMode
  var enrolledAt: Instant
  var eligibility: Eligibility
  var eligibleAt: Instant?
  var deadlineOverride: Instant?
  var courseGrade: Double?
  var creditGrade: Double?
  var requirements: [Requirement]
  var stored: [String: RequirementState]
  var frozen: Bool

  var creditTrack: Bool { mode == .verified }
}

/// What the rules say now, before it is stored.
struct Evaluation {
  var states: [RequirementState]
  var eligibility: Eligibility
  /// For each requirement whose status changed by time alone, the instant it happened.
  var timeCausedAt: [String: Instant]
}

extension CreditService {
  func standing(_ learnerId: String, _ courseId: String) throws -> Standing {
    let learner = try learner(learnerId)
    let course = try course(courseId)
    guard
      let row = try db.queryOne(
        """
        SELECT mode, enrolled_at, eligibility, eligible_at, deadline_override, course_grade, credit_grade
        FROM enrollments WHERE learner_id = ? AND course_id = ?
        """, [.text(learnerId), .text(courseId)],
        { s in
          (
            EnrollmentMode(rawValue: s.text(0)) ?? .audit, s.int64(1),
            Eligibility(rawValue: s.text(2)) ?? .notYetEligible,
            s.optionalInt64(3), s.optionalInt64(4), s.optionalDouble(5), s.optionalDouble(6)
          )
        })
    else { throw CreditError.notEnrolled(learnerId, courseId) }
    let requirements = try requirements(courseId)
    var stored: [String: RequirementState] = [:]
    let byId = Dictionary(requirements.map { ($0.requirementId, $0) }, uniquingKeysWith: { a, _ in a })
    for (rid, status, reason, updatedAt) in try db.query(
      "SELECT requirement_id, status, reason, updated_at FROM requirement_status WHERE learner_id = ? AND course_id = ?",
      [.text(learnerId), .text(courseId)], { s in (s.text(0), s.text(1), s.optionalText(2), s.int64(3)) })
    {
      guard let r = byId[rid] else { continue }
      stored[rid] = RequirementState(
        requirement: r, status: RequirementStatus(rawValue: status) ?? .pending, reason: reason,
        updatedAt: updatedAt)
    }
    let frozen =
      try db.scalarInt(
        "SELECT EXISTS (SELECT 1 FROM credit_requests WHERE learner_id = ? AND course_id = ?)",
        [.text(learnerId), .text(courseId)]) == 1
    return Standing(
      learner: learner, course: course, mode: row.0, enrolledAt: row.1, eligibility: row.2, eligibleAt: row.3,
      deadlineOverride: row.4, courseGrade: row.5, creditGrade: row.6, requirements: requirements,
      stored: stored,
      frozen: frozen)
  }

  /// Applies the rules to the facts as they are at `now`.
  func evaluate(_ s: Standing) throws -> Evaluation {
    let now = self.now
    var states: [RequirementState] = []
    var timeCausedAt: [String: Instant] = [:]
    for r in s.requirements {
      let stored = s.stored[r.requirementId]
      let current = stored?.status ?? .pending
      var state = stored ?? RequirementState(requirement: r, status: .pending, reason: nil, updatedAt: nil)
      state.requirement = r
      if s.frozen {
        states.append(state)
        continue
      }
      switch r.kind {
      case .grade:
        if stored == nil {
          let min = Rules.formatGrade(r.minGrade ?? 0)
          state.reason =
            s.courseGrade.map { "Current grade \(Rules.formatGrade($0)); the minimum is \(min)." }
            ?? "No grade recorded yet; the minimum is \(min)."
        }
      case .proctoredExam:
        let exam = try exam(s.course.courseId, r.examId ?? "")
        let stored = try currentAttempt(s.learner.learnerId, s.course.courseId, exam.examId)
        let attempt = stored.map { Rules.attemptAt($0, now: now) }
        let score = try examScore(s.learner.learnerId, s.course.courseId, exam.examId)
        let (status, reason) = Rules.examStatus(current: current, exam: exam, attempt: attempt, score: score)
        if current == .pending, status == .submitted, let attempt, attempt.timedOut {
          timeCausedAt[r.requirementId] = attempt.deadline
        }
        state.status = status
        if reason != nil || status != current { state.reason = reason }
        if status != current { state.updatedAt = timeCausedAt[r.requirementId] ?? now }
      case .reverification:
        let latest = try db.queryOne(
          """
          SELECT \(Rows.verification) FROM verifications
          WHERE learner_id = ? AND kind = 'reverification' AND course_id = ? AND checkpoint_id = ?
          ORDER BY seq DESC LIMIT 1
          """, [.text(s.learner.learnerId), .text(s.course.courseId), .optional(r.checkpointId)],
          Rows.verification)
        let (status, reason) = Rules.reverificationStatus(
          current: current, latest: latest, displayName: r.displayName)
        state.status = status
        if reason != nil || status != current { state.reason = reason }
        if status != current { state.updatedAt = now }
      }
      states.append(state)
    }
    let eligibility = Rules.eligibility(
      creditTrack: s.creditTrack, statuses: states.map(\.status), courseEnded: now > s.course.endsAt)
    return Evaluation(states: states, eligibility: eligibility, timeCausedAt: timeCausedAt)
  }

  /// The credit status a learner sees, as of now.
  func creditStatus(_ s: Standing, _ e: Evaluation) -> CreditStatus {
    CreditStatus(
      learnerId: s.learner.learnerId, courseId: s.course.courseId, creditTrack: s.creditTrack,
      eligibility: e.eligibility,
      purchaseDeadline: e.eligibility == .eligible
        ? Rules.purchaseDeadline(
          courseEnd: s.course.endsAt, windowDays: s.course.purchaseWindowDays, override: s.deadlineOverride)
        : nil,
      requirements: e.states)
  }

  /// Stores what the rules say now, writing a history event for every change: changes that time
  /// alone caused carry the moment they happened and the actor `system`. On first becoming eligible
  /// the learner gets the `creditEligible` email.
  @discardableResult
  func sync(_ learnerId: String, _ courseId: String, byTimeOnly: Bool = false) throws -> Standing {
    var s = try standing(learnerId, courseId)
    let e = try evaluate(s)
    let now = self.now
    for state in e.states {
      let rid = state.requirement.requirementId
      let old = s.stored[rid]
      let from = old?.status ?? .pending
      if old != nil, from == state.status, old?.reason == state.reason { continue }
      let timeAt = e.timeCausedAt[rid]
      let at = timeAt ?? now
      try db.run(
        """
        INSERT INTO requirement_status (learner_id, course_id, requirement_id, status, reason, updated_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (learner_id, course_id, requirement_id)
        DO UPDATE SET status = excluded.status, reason = excluded.reason,
          updated_at = CASE WHEN status = excluded.status THEN updated_at ELSE excluded.updated_at END
        """,
        [
          .text(learnerId), .text(courseId), .text(rid), .text(state.status.rawValue),
          .optional(state.reason), .int(at),
        ])
      if from != state.status {
        try recordEvent(
          learnerId: learnerId, courseId: courseId, kind: "requirementStatusChanged", requirementId: rid,
          from: from.rawValue, to: state.status.rawValue, detail: state.reason, at: at,
          actor: (timeAt != nil || byTimeOnly) ? "system" : nil)
      }
      var updated = state
      if from == state.status, let previous = old?.updatedAt {
        updated.updatedAt = previous
      } else {
        updated.updatedAt = at
      }
      s.stored[rid] = updated
    }
    if e.eligibility != s.eligibility {
      let ended = now > s.course.endsAt
      // Only the course end changes eligibility by time alone.
      let at = byTimeOnly && ended ? s.course.endsAt + 1 : now
      try recordEvent(
        learnerId: learnerId, courseId: courseId, kind: "eligibilityChanged", from: s.eligibility.rawValue,
        to: e.eligibility.rawValue, at: at, actor: byTimeOnly ? "system" : nil)
      var firstTime = false
      if e.eligibility == .eligible, s.eligibleAt == nil {
        firstTime = true
        s.eligibleAt = now
      }
      try db.run(
        "UPDATE enrollments SET eligibility = ?, eligible_at = ? WHERE learner_id = ? AND course_id = ?",
        [.text(e.eligibility.rawValue), .optional(s.eligibleAt), .text(learnerId), .text(courseId)])
      s.eligibility = e.eligibility
      if firstTime { try sendEligibleEmail(s) }
    }
    return s
  }

  /// Records what time alone has changed since the last write for this learner and course, then
  /// returns the fresh standing; every write for a learner and course starts here.
  func settle(_ learnerId: String, _ courseId: String) throws -> Standing {
    try recordTimeouts(learnerId, courseId)
    return try sync(learnerId, courseId, byTimeOnly: true)
  }

  private func sendEligibleEmail(_ s: Standing) throws {
    let deadline = Rules.purchaseDeadline(
      courseEnd: s.course.endsAt, windowDays: s.course.purchaseWindowDays, override: s.deadlineOverride)
    try sendEmail(
      s.learner, courseId: s.course.courseId, kind: .creditEligible,
      subject: "You are eligible for credit in \(s.course.title)",
      body: """
        Congratulations, \(s.learner.fullName)! You have met every requirement for academic credit in \
        \(s.course.title) (\(s.course.courseId)). You can purchase credit from your dashboard until \
        \(RFC3339.format(deadline)).
        """)
  }

  func currentAttempt(_ learnerId: String, _ courseId: String, _ examId: String) throws -> ExamAttempt? {
    try db.queryOne(
      "SELECT \(Rows.attempt) WHERE a.learner_id = ? AND a.course_id = ? AND a.exam_id = ? AND a.current = 1",
      [.text(learnerId), .text(courseId), .text(examId)], Rows.attempt)
  }

  func examScore(_ learnerId: String, _ courseId: String, _ examId: String) throws -> Double? {
    try db.queryOne(
      "SELECT score FROM exam_scores WHERE learner_id = ? AND course_id = ? AND exam_id = ?",
      [.text(learnerId), .text(courseId), .text(examId)]
    ) { $0.double(0) }
  }
}
