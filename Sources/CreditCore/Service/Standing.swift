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
  /// Two queries: the enrollment with its learner and course, and the requirements with this
  /// learner's stored statuses (this runs on every read and write of a learner in a course).
  func standing(_ learnerId: String, _ courseId: String) throws -> Standing {
    let key: [SQLValue] = [.text(learnerId), .text(courseId)]
    guard
      var s = try db.queryOne(
        """
        SELECT l.learner_id, l.full_name, l.email, l.country, l.mailing_address,
          c.course_id, c.org, c.number, c.run, c.title, c.starts_at, c.ends_at, c.passing_grade,
          c.verified_price_cents, c.verified_currency, c.purchase_window_days,
          e.mode, e.enrolled_at, e.eligibility, e.eligible_at, e.deadline_override, e.course_grade, e.credit_grade,
          EXISTS (SELECT 1 FROM credit_requests r WHERE r.learner_id = e.learner_id AND r.course_id = e.course_id)
        FROM enrollments e JOIN learners l ON l.learner_id = e.learner_id JOIN courses c ON c.course_id = e.course_id
        WHERE e.learner_id = ? AND e.course_id = ?
        """, key,
        { s in
          Standing(
            learner: Learner(
              learnerId: s.text(0), fullName: s.text(1), email: s.text(2), country: s.text(3),
              mailingAddress: s.optionalText(4)),
            course: Course(
              courseId: s.text(5), org: s.text(6), number: s.text(7), run: s.text(8), title: s.text(9),
              startsAt: s.int64(10), endsAt: s.int64(11), passingGrade: s.double(12),
              verifiedPrice: s.isNull(13) ? nil : Money(cents: s.int64(13), currency: s.text(14)),
              purchaseWindowDays: s.int64(15), earnCredit: false),  // the catalog flag is not needed here
            mode: EnrollmentMode(rawValue: s.text(16)) ?? .audit, enrolledAt: s.int64(17),
            eligibility: Eligibility(rawValue: s.text(18)) ?? .notYetEligible,
            eligibleAt: s.optionalInt64(19),
            deadlineOverride: s.optionalInt64(20), courseGrade: s.optionalDouble(21),
            creditGrade: s.optionalDouble(22),
            requirements: [], stored: [:], frozen: s.bool(23))
        })
    else {
      // Say which of the three is missing.
      _ = try learner(learnerId)
      _ = try course(courseId)
      throw CreditError.notEnrolled(learnerId, courseId)
    }
    for (r, status, reason, updatedAt) in try db.query(
      """
      SELECT r.requirement_id, r.kind, r.display_name, r.position, r.min_grade, r.exam_id, r.checkpoint_id,
        st.status, st.reason, st.updated_at
      FROM requirements r LEFT JOIN requirement_status st
        ON st.learner_id = ? AND st.course_id = r.course_id AND st.requirement_id = r.requirement_id
      WHERE r.course_id = ? ORDER BY r.position
      """, key,
      { s in (Rows.requirement(s), s.optionalText(7), s.optionalText(8), s.optionalInt64(9)) })
    {
      s.requirements.append(r)
      if let status, let updatedAt {
        s.stored[r.requirementId] = RequirementState(
          requirement: r, status: RequirementStatus(rawValue: status) ?? .pending, reason: reason,
          updatedAt: updatedAt)
      }
    }
    return s
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
    // Once credit is bought, the learner's standing in the course no longer changes.
    let eligibility =
      s.frozen
      ? s.eligibility
      : Rules.eligibility(
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
      try storeStatus(
        learnerId, courseId, rid, from: from, to: state.status, reason: state.reason, at: at,
        actor: (timeAt != nil || byTimeOnly) ? "system" : nil)
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

  /// Stores a requirement's status (its `updated_at` moves only when the status does) and, when the
  /// status changed, the history event.
  func storeStatus(
    _ learnerId: String, _ courseId: String, _ rid: String, from: RequirementStatus, to: RequirementStatus,
    reason: String?, at: Instant, actor: String? = nil
  ) throws {
    try db.run(
      """
      INSERT INTO requirement_status (learner_id, course_id, requirement_id, status, reason, updated_at)
      VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (learner_id, course_id, requirement_id)
      DO UPDATE SET status = excluded.status, reason = excluded.reason,
        updated_at = CASE WHEN status = excluded.status THEN updated_at ELSE excluded.updated_at END
      """,
      [.text(learnerId), .text(courseId), .text(rid), .text(to.rawValue), .optional(reason), .int(at)])
    if from != to {
      try recordEvent(
        learnerId: learnerId, courseId: courseId, kind: "requirementStatusChanged", requirementId: rid,
        from: from.rawValue, to: to.rawValue, detail: reason, at: at, actor: actor)
    }
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
