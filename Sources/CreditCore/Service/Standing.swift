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
  /// The credit request, once credit is bought.
  var request: CreditRequest?

  /// What `sync` stored, as the learner sees it (nil on a standing only loaded).
  var synced: CreditStatus?

  /// Once a credit request exists, the learner's requirement statuses no longer change.
  var frozen: Bool { request != nil }

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
  /// One query: the enrollment with its credit request, one row per requirement of the course with
  /// this learner's stored status; learner and course come from the service's cache. This runs on
  /// every read and write of a learner in a course.
  func standing(_ learnerId: String, _ courseId: String) throws -> Standing {
    let learner = try learner(learnerId)
    let course = try courseFacts(courseId)
    let statement = try db.statement(
      """
      SELECT e.mode, e.enrolled_at, e.eligibility, e.eligible_at, e.deadline_override, e.course_grade,
        e.credit_grade, r.request_id, r.provider_id, p.display_name, r.status, r.created_at, r.decided_at, p.url,
        p.status_url, p.description,
        q.requirement_id, q.kind, q.display_name, q.position, q.min_grade, q.exam_id, q.checkpoint_id,
        st.status, st.reason, st.updated_at
      FROM enrollments e
        LEFT JOIN credit_requests r ON r.learner_id = e.learner_id AND r.course_id = e.course_id
        LEFT JOIN providers p ON p.provider_id = r.provider_id
        LEFT JOIN requirements q ON q.course_id = e.course_id
        LEFT JOIN requirement_status st
          ON st.learner_id = e.learner_id AND st.course_id = e.course_id AND st.requirement_id = q.requirement_id
      WHERE e.learner_id = ? AND e.course_id = ?
      ORDER BY q.position
      """)
    try statement.bind([.text(learnerId), .text(courseId)])
    var standing: Standing?
    while try statement.step() {
      let s = statement
      if standing == nil {
        standing = Standing(
          learner: learner, course: course, mode: EnrollmentMode(rawValue: s.text(0)) ?? .audit,
          enrolledAt: s.int64(1), eligibility: Eligibility(rawValue: s.text(2)) ?? .notYetEligible,
          eligibleAt: s.optionalInt64(3), deadlineOverride: s.optionalInt64(4),
          courseGrade: s.optionalDouble(5),
          creditGrade: s.optionalDouble(6), requirements: [], stored: [:],
          request: s.isNull(7)
            ? nil
            : CreditRequest(
              requestId: s.text(7), learnerId: learnerId, courseId: courseId, providerId: s.text(8),
              providerName: s.text(9), status: CreditRequestStatus(rawValue: s.text(10)) ?? .pending,
              createdAt: s.int64(11), decidedAt: s.optionalInt64(12), providerUrl: s.text(13),
              providerStatusUrl: s.optionalText(14), providerDescription: s.optionalText(15)))
      }
      guard !s.isNull(16) else { continue }  // a course without requirements
      let r = Requirement(
        requirementId: s.text(16), kind: RequirementKind(rawValue: s.text(17)) ?? .grade,
        displayName: s.text(18), order: s.int(19), minGrade: s.optionalDouble(20), examId: s.optionalText(21),
        checkpointId: s.optionalText(22))
      standing!.requirements.append(r)
      if let status = s.optionalText(23) {
        standing!.stored[r.requirementId] = RequirementState(
          requirement: r, status: RequirementStatus(rawValue: status) ?? .pending, reason: s.optionalText(24),
          updatedAt: s.int64(25))
      }
    }
    guard let standing else { throw CreditError.notEnrolled(learnerId, courseId) }
    return standing
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
    var states: [RequirementState] = []
    for state in e.states {
      let rid = state.requirement.requirementId
      let old = s.stored[rid]
      let from = old?.status ?? .pending
      if old != nil, from == state.status, old?.reason == state.reason {
        states.append(state)
        continue
      }
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
      states.append(updated)
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
    s.synced = creditStatus(s, Evaluation(states: states, eligibility: e.eligibility, timeCausedAt: [:]))
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
