/// One course on a learner's dashboard.
public struct DashboardEntry: Sendable {
  public var courseId: String
  public var title: String
  public var mode: EnrollmentMode
  public var certificate: CertificateStatus
  public var credit: CreditStatus
  public var canPurchase: Bool
  public var providers: [Offer]
  public var request: CreditRequest?
}

extension CreditService {
  // MARK: Learners and enrollment

  public func createLearner(_ l: Learner) throws -> Learner {
    if let existing = try store.learner(l.learnerId) {
      guard existing == l else {
        throw CreditError(
          .alreadyExists, "Learner '\(l.learnerId)' already exists with other details.",
          reason: "learner_exists",
          field: "learnerId")
      }
      return existing
    }
    try store.insertLearner(l, createdAt: now)
    return l
  }

  public func enroll(learnerId: String, courseId: String, mode: EnrollmentMode) throws -> Enrollment {
    _ = try learner(learnerId)
    guard let course = try store.courseFacts(courseId) else {
      throw CreditError.notFound("course", courseId, field: "courseId")
    }
    if let existing = try store.enrollment(learnerId: learnerId, courseId: courseId) {
      if existing.mode == mode {
        return Enrollment(
          learnerId: learnerId, courseId: courseId, mode: mode, enrolledAt: existing.enrolledAt)
      }
      guard mode == .verified else {
        throw CreditError.invalidState(
          "Learner '\(learnerId)' is in the verified track of \(courseId); it cannot be changed back to audit.",
          reason: "downgrade_refused")
      }
      guard now <= course.endsAt else {
        throw CreditError(
          .deadlinePassed,
          "\(courseId) ended at \(RFC3339.format(course.endsAt)); it is too late to upgrade.",
          reason: "course_ended", field: "courseId")
      }
      var s = try settle(learnerId, courseId)
      s.enrollment.mode = .verified
      try store.updateEnrollment(s.enrollment)
      try recordEvent(
        learnerId: learnerId, courseId: courseId, kind: "enrollmentUpgraded", from: "audit", to: "verified")
      try sync(&s)
      return Enrollment(learnerId: learnerId, courseId: courseId, mode: .verified, enrolledAt: s.enrolledAt)
    }
    guard now <= course.endsAt else {
      throw CreditError(
        .deadlinePassed,
        "\(courseId) ended at \(RFC3339.format(course.endsAt)); it no longer takes enrollments.",
        reason: "course_ended", field: "courseId")
    }
    try store.insertEnrollment(
      EnrollmentRecord(learnerId: learnerId, courseId: courseId, mode: mode, enrolledAt: now))
    try recordEvent(learnerId: learnerId, courseId: courseId, kind: "enrolled", to: mode.rawValue)
    var s = try standing(learnerId, courseId)
    try sync(&s)
    return Enrollment(learnerId: learnerId, courseId: courseId, mode: mode, enrolledAt: now)
  }

  // MARK: Grades

  /// Records a course grade, or with `examId` an exam score, and re-decides the requirements.
  public func recordGrade(learnerId: String, courseId: String, grade: Double, examId: String?) throws
    -> CreditStatus
  {
    var s = try settle(learnerId, courseId)
    if let examId {
      if s.exams[examId] == nil { _ = try exam(courseId, examId) }
      let previous = s.scores[examId]
      try store.storeExamScore(
        learnerId: learnerId, courseId: courseId, examId: examId, score: grade, at: now)
      s.scores[examId] = grade
      for i in s.attempts.indices where s.attempts[i].attempt.examId == examId {
        s.attempts[i].attempt.score = grade
      }
      try recordEvent(
        learnerId: learnerId, courseId: courseId, kind: "examScoreRecorded",
        requirementId: "proctoredExam:\(examId)", from: previous.map(Rules.formatGrade),
        to: Rules.formatGrade(grade))
    } else {
      try recordEvent(
        learnerId: learnerId, courseId: courseId, kind: "gradeRecorded",
        from: s.courseGrade.map(Rules.formatGrade),
        to: Rules.formatGrade(grade))
      s.enrollment.courseGrade = grade
      if !s.frozen, let r = s.requirements.first(where: { $0.kind == .grade }) {
        let current = s.stored[r.requirementId]?.status ?? .pending
        if let (status, reason) = Rules.gradeStatus(
          current: current, grade: grade, minGrade: r.minGrade ?? 0, recordedAt: now,
          courseEnd: s.course.endsAt)
        {
          try setStatus(&s, r, from: current, to: status, reason: reason)
        }
        // The grade the provider is told: the latest that met the minimum while the requirement stood.
        if s.stored[r.requirementId]?.status == .satisfied, grade >= r.minGrade ?? 0 {
          s.enrollment.creditGrade = grade
        }
      }
      try store.updateEnrollment(s.enrollment)
    }
    try sync(&s)
    return s.synced!
  }

  /// After a change of minimum grade, the grade requirement of a learner whose grade is not final
  /// is decided again from the grade on record.
  func redecideGrade(_ s: inout Standing) throws {
    guard !s.frozen, let grade = s.courseGrade, let r = s.requirements.first(where: { $0.kind == .grade })
    else {
      return
    }
    let current = s.stored[r.requirementId]?.status ?? .pending
    if let (status, reason) = Rules.gradeStatus(
      current: current, grade: grade, minGrade: r.minGrade ?? 0, recordedAt: now, courseEnd: s.course.endsAt)
    {
      try setStatus(&s, r, from: current, to: status, reason: reason)
    }
  }

  // MARK: Reads

  public func getRequirements(learnerId: String, courseId: String) throws -> CreditStatus {
    let s = try standing(learnerId, courseId)
    return creditStatus(s, try evaluate(s))
  }

  public func getDashboard(learnerId: String) throws -> [DashboardEntry] {
    _ = try learner(learnerId)
    let standings = try store.standings(learnerId: learnerId).map(Standing.init)
    let approved =
      standings.first?.verifications.contains { $0.kind == .initial && $0.status == .approved } ?? false
    var entries: [DashboardEntry] = []
    for s in standings {
      let courseId = s.course.courseId
      let status = creditStatus(s, try evaluate(s))
      // The purchase option: the providers and their prices, while there is something to buy.
      let open = status.eligibility == .eligible && s.creditTrack && s.request == nil
      let offers = open ? try store.offers(courseId: courseId) : []
      let canPurchase = open && !offers.isEmpty && status.purchaseDeadline.map { now <= $0 } ?? false
      entries.append(
        DashboardEntry(
          courseId: courseId, title: s.course.title, mode: s.mode,
          certificate: Rules.certificate(
            verified: s.creditTrack, everApproved: approved, grade: s.courseGrade,
            passingGrade: s.course.passingGrade),
          credit: status, canPurchase: canPurchase, providers: offers, request: s.request))
    }
    return entries
  }

  public func listNotifications(learnerId: String, afterId: Int64?) throws -> [Notification] {
    _ = try learner(learnerId)
    return try store.notifications(learnerId: learnerId, afterId: afterId ?? 0)
  }

  public func getHistory(learnerId: String, courseId: String) throws -> [Event] {
    _ = try learner(learnerId)
    _ = try course(courseId)
    return try store.events(learnerId: learnerId, courseId: courseId)
  }

  // MARK: Staff actions

  public func extendPurchaseDeadline(learnerId: String, courseId: String, deadline: Instant) throws
    -> CreditStatus
  {
    var s = try settle(learnerId, courseId)
    guard deadline > s.course.purchaseDeadline else {
      throw CreditError.invalidParams(
        "deadline must be later than the course's own purchase deadline, \(RFC3339.format(s.course.purchaseDeadline)).",
        field: "deadline", reason: "deadline_not_later")
    }
    if s.deadlineOverride != deadline {
      try recordEvent(
        learnerId: learnerId, courseId: courseId, kind: "purchaseDeadlineExtended",
        from: RFC3339.format(s.deadlineOverride ?? s.course.purchaseDeadline), to: RFC3339.format(deadline))
      s.enrollment.deadlineOverride = deadline
      try store.updateEnrollment(s.enrollment)
    }
    try sync(&s)
    return s.synced!
  }

  /// Declines an identity check (a checkpoint, or proctoring of an exam not yet started): final
  /// for credit in this course; the certificate is unaffected.
  public func declineRequirement(learnerId: String, courseId: String, requirementId: String) throws
    -> CreditStatus
  {
    var s = try settle(learnerId, courseId)
    guard let r = s.requirements.first(where: { $0.requirementId == requirementId }) else {
      throw CreditError(
        .notFound, "Course \(courseId) has no credit requirement '\(requirementId)'.",
        reason: "requirement_not_found", field: "requirementId")
    }
    guard r.kind != .grade else {
      throw CreditError.invalidState(
        "Only identity checks (reverification and proctored exams) can be declined.", reason: "not_declinable"
      )
    }
    let current = s.stored[requirementId]?.status ?? .pending
    if current == .declined {
      try sync(&s)
      return s.synced!
    }
    guard !s.frozen else {
      throw CreditError.invalidState(
        "Credit was already purchased for \(courseId); requirements can no longer change.",
        reason: "credit_requested")
    }
    let e = try evaluate(s)
    let status = e.states.first { $0.requirement.requirementId == requirementId }?.status ?? current
    guard status != .satisfied else {
      throw CreditError.invalidState(
        "Requirement '\(requirementId)' is already satisfied.", reason: "already_satisfied")
    }
    if r.kind == .proctoredExam, s.currentAttempt(r.examId ?? "") != nil {
      throw CreditError.invalidState(
        "The exam has already been started; proctoring can only be declined before the exam starts.",
        reason: "exam_started")
    }
    try setStatus(
      &s, r, from: status, to: .declined,
      reason:
        "Declined by the learner: no longer eligible for credit in this course; the certificate is still possible."
    )
    try sync(&s)
    return s.synced!
  }
}

extension CreditService {
  /// A credit request by id, or nil.
  public func findCreditRequest(_ requestId: String) throws -> CreditRequest? {
    try store.creditRequest(requestId)
  }
}
