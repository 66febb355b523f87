/// Everything that decides where one learner stands in one course, loaded once per request and
/// kept current in memory by the request's own writes (nothing written is read back).
struct Standing {
  var learner: Learner
  var course: Course
  var enrollment: EnrollmentRecord
  var requirements: [Requirement]
  var exams: [String: Exam]
  var stored: [String: RequirementState]
  /// The credit request, once credit is bought.
  var request: CreditRequest?
  var attempts: [StoredAttempt]
  var scores: [String: Double]
  var verifications: [Verification]

  /// What `sync` stored, as the learner sees it (nil on a standing only loaded).
  var synced: CreditStatus?

  init(_ r: StandingRecord) {
    learner = r.learner
    course = r.course
    enrollment = r.enrollment
    requirements = r.requirements
    exams = r.exams
    stored = r.statuses
    request = r.request
    attempts = r.attempts
    scores = r.scores
    verifications = r.verifications
  }

  var mode: EnrollmentMode { enrollment.mode }
  var enrolledAt: Instant { enrollment.enrolledAt }
  var eligibility: Eligibility { enrollment.eligibility }
  var eligibleAt: Instant? { enrollment.eligibleAt }
  var deadlineOverride: Instant? { enrollment.deadlineOverride }
  var courseGrade: Double? { enrollment.courseGrade }
  var creditGrade: Double? { enrollment.creditGrade }

  /// Once a credit request exists, the learner's requirement statuses no longer change.
  var frozen: Bool { request != nil }

  var creditTrack: Bool { mode == .verified }

  /// The current attempt at an exam.
  func currentAttempt(_ examId: String) -> ExamAttempt? {
    attempts.first { $0.current && $0.attempt.examId == examId }?.attempt
  }

  /// Replaces a stored attempt (by id) or adds it.
  mutating func store(_ a: ExamAttempt, current: Bool = true) {
    if let i = attempts.firstIndex(where: { $0.attempt.attemptId == a.attemptId }) {
      attempts[i] = StoredAttempt(a, current: current)
    } else {
      attempts.append(StoredAttempt(a, current: current))
    }
  }

  func latestReverification(_ checkpointId: String?) -> Verification? {
    guard let checkpointId else { return nil }
    return verifications.last {
      $0.kind == .reverification && $0.courseId == course.courseId && $0.checkpointId == checkpointId
    }
  }

  var latestApprovedInitial: Verification? {
    verifications.last { $0.kind == .initial && $0.status == .approved }
  }
}

/// What the rules say now, before it is stored.
struct Evaluation {
  var states: [RequirementState]
  var eligibility: Eligibility
  /// For each requirement whose status changed by time alone, the instant it happened.
  var timeCausedAt: [String: Instant]
}

extension CreditService {
  /// The standing of a learner in a course (two statements: the enrollment with its request and
  /// requirements; the attempts, scores and verifications). This runs on every read and write of a
  /// learner in a course.
  func standing(_ learnerId: String, _ courseId: String, forWrite: Bool = false) throws -> Standing {
    guard let r = try store.standing(learnerId: learnerId, courseId: courseId, forWrite: forWrite) else {
      // Which is missing, in the order a client would fix it.
      _ = try learner(learnerId)
      _ = try course(courseId)
      throw CreditError.notEnrolled(learnerId, courseId)
    }
    return Standing(r)
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
        guard let exam = s.exams[r.examId ?? ""] else {
          throw Self.examNotFound(s.course.courseId, r.examId ?? "")
        }
        let attempt = s.currentAttempt(exam.examId).map { Rules.attemptAt($0, now: now) }
        let score = s.scores[exam.examId]
        let (status, reason) = Rules.examStatus(current: current, exam: exam, attempt: attempt, score: score)
        if current == .pending, status == .submitted, let attempt, attempt.timedOut {
          timeCausedAt[r.requirementId] = attempt.deadline
        }
        state.status = status
        if reason != nil || status != current { state.reason = reason }
        if status != current { state.updatedAt = timeCausedAt[r.requirementId] ?? now }
      case .reverification:
        let (status, reason) = Rules.reverificationStatus(
          current: current, latest: s.latestReverification(r.checkpointId), displayName: r.displayName)
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
  func sync(_ s: inout Standing, byTimeOnly: Bool = false) throws {
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
      try setStatus(
        &s, state.requirement, from: from, to: state.status, reason: state.reason, at: at,
        actor: (timeAt != nil || byTimeOnly) ? "system" : nil)
      states.append(s.stored[rid]!)
    }
    if e.eligibility != s.eligibility {
      let ended = now > s.course.endsAt
      // Only the course end changes eligibility by time alone.
      let at = byTimeOnly && ended ? s.course.endsAt + 1 : now
      try recordEvent(
        learnerId: s.learner.learnerId, courseId: s.course.courseId, kind: "eligibilityChanged",
        from: s.eligibility.rawValue, to: e.eligibility.rawValue, at: at, actor: byTimeOnly ? "system" : nil)
      var firstTime = false
      if e.eligibility == .eligible, s.eligibleAt == nil {
        firstTime = true
        s.enrollment.eligibleAt = now
      }
      s.enrollment.eligibility = e.eligibility
      try store.updateEnrollment(s.enrollment)
      if firstTime { try sendEligibleEmail(s) }
    }
    s.synced = creditStatus(s, Evaluation(states: states, eligibility: e.eligibility, timeCausedAt: [:]))
  }

  /// Records what time alone has changed since the last write for this learner and course, then
  /// returns the standing as stored; every write for a learner and course starts here.
  func settle(_ learnerId: String, _ courseId: String) throws -> Standing {
    var s = try standing(learnerId, courseId, forWrite: true)
    try recordTimeouts(&s)
    try sync(&s, byTimeOnly: true)
    return s
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
  func setStatus(
    _ s: inout Standing, _ r: Requirement, from: RequirementStatus, to: RequirementStatus, reason: String?,
    at: Instant? = nil, actor: String? = nil
  ) throws {
    let at = at ?? now
    let rid = r.requirementId
    let old = s.stored[rid]
    let state = RequirementState(
      requirement: r, status: to, reason: reason,
      updatedAt: old.flatMap { $0.status == to ? $0.updatedAt : nil } ?? at)
    try store.storeStatus(learnerId: s.learner.learnerId, courseId: s.course.courseId, state, at: at)
    s.stored[rid] = state
    if from != to {
      try recordEvent(
        learnerId: s.learner.learnerId, courseId: s.course.courseId, kind: "requirementStatusChanged",
        requirementId: rid, from: from.rawValue, to: to.rawValue, detail: reason, at: at, actor: actor)
    }
  }
}
