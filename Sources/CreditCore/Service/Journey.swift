import SQLite

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
    if let existing = try? learner(l.learnerId) {
      guard existing == l else {
        throw CreditError(
          .alreadyExists, "Learner '\(l.learnerId)' already exists with other details.",
          reason: "learner_exists",
          field: "learnerId")
      }
      return existing
    }
    try db.run(
      "INSERT INTO learners (learner_id, full_name, email, country, mailing_address, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      [
        .text(l.learnerId), .text(l.fullName), .text(l.email), .text(l.country), .optional(l.mailingAddress),
        .int(now),
      ])
    return l
  }

  public func enroll(learnerId: String, courseId: String, mode: EnrollmentMode) throws -> Enrollment {
    _ = try learner(learnerId)
    let course = try course(courseId)
    let existing = try db.queryOne(
      "SELECT mode, enrolled_at FROM enrollments WHERE learner_id = ? AND course_id = ?",
      [.text(learnerId), .text(courseId)]
    ) { s in (EnrollmentMode(rawValue: s.text(0)) ?? .audit, s.int64(1)) }
    if let (current, enrolledAt) = existing {
      if current == mode {
        return Enrollment(learnerId: learnerId, courseId: courseId, mode: mode, enrolledAt: enrolledAt)
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
      _ = try settle(learnerId, courseId)
      try db.run(
        "UPDATE enrollments SET mode = 'verified' WHERE learner_id = ? AND course_id = ?",
        [.text(learnerId), .text(courseId)])
      try recordEvent(
        learnerId: learnerId, courseId: courseId, kind: "enrollmentUpgraded", from: "audit", to: "verified")
      try sync(learnerId, courseId)
      return Enrollment(learnerId: learnerId, courseId: courseId, mode: .verified, enrolledAt: enrolledAt)
    }
    guard now <= course.endsAt else {
      throw CreditError(
        .deadlinePassed,
        "\(courseId) ended at \(RFC3339.format(course.endsAt)); it no longer takes enrollments.",
        reason: "course_ended", field: "courseId")
    }
    try db.run(
      "INSERT INTO enrollments (learner_id, course_id, mode, enrolled_at) VALUES (?, ?, ?, ?)",
      [.text(learnerId), .text(courseId), .text(mode.rawValue), .int(now)])
    try recordEvent(learnerId: learnerId, courseId: courseId, kind: "enrolled", to: mode.rawValue)
    try sync(learnerId, courseId)
    return Enrollment(learnerId: learnerId, courseId: courseId, mode: mode, enrolledAt: now)
  }

  // MARK: Grades

  /// Records a course grade, or with `examId` an exam score, and re-decides the requirements.
  public func recordGrade(learnerId: String, courseId: String, grade: Double, examId: String?) throws
    -> CreditStatus
  {
    var s = try settle(learnerId, courseId)
    if let examId {
      _ = try exam(courseId, examId)
      let previous = try examScore(learnerId, courseId, examId)
      try db.run(
        """
        INSERT INTO exam_scores (learner_id, course_id, exam_id, score, recorded_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (learner_id, course_id, exam_id) DO UPDATE SET score = excluded.score,
          recorded_at = excluded.recorded_at
        """, [.text(learnerId), .text(courseId), .text(examId), .double(grade), .int(now)])
      try recordEvent(
        learnerId: learnerId, courseId: courseId, kind: "examScoreRecorded",
        requirementId: "proctoredExam:\(examId)", from: previous.map(Rules.formatGrade),
        to: Rules.formatGrade(grade))
    } else {
      try db.run(
        "UPDATE enrollments SET course_grade = ? WHERE learner_id = ? AND course_id = ?",
        [.double(grade), .text(learnerId), .text(courseId)])
      try recordEvent(
        learnerId: learnerId, courseId: courseId, kind: "gradeRecorded",
        from: s.courseGrade.map(Rules.formatGrade),
        to: Rules.formatGrade(grade))
      s.courseGrade = grade
      if !s.frozen, let r = s.requirements.first(where: { $0.kind == .grade }) {
        let current = s.stored[r.requirementId]?.status ?? .pending
        if let (status, reason) = Rules.gradeStatus(
          current: current, grade: grade, minGrade: r.minGrade ?? 0, recordedAt: now,
          courseEnd: s.course.endsAt)
        {
          try setStatus(s, r.requirementId, from: current, to: status, reason: reason)
        }
        // The grade the provider is told: the latest that met the minimum while the requirement stood.
        let after = try db.queryOne(
          "SELECT status FROM requirement_status WHERE learner_id = ? AND course_id = ? AND requirement_id = ?",
          [.text(learnerId), .text(courseId), .text(r.requirementId)]
        ) { $0.text(0) }
        if after == RequirementStatus.satisfied.rawValue, grade >= r.minGrade ?? 0 {
          try db.run(
            "UPDATE enrollments SET credit_grade = ? WHERE learner_id = ? AND course_id = ?",
            [.double(grade), .text(learnerId), .text(courseId)])
        }
      }
    }
    return try creditStatusAfterSync(learnerId, courseId)
  }

  /// After a change of minimum grade, the grade requirement of a learner whose grade is not final
  /// is decided again from the grade on record.
  func redecideGrade(_ learnerId: String, _ courseId: String) throws {
    let s = try standing(learnerId, courseId)
    guard !s.frozen, let grade = s.courseGrade, let r = s.requirements.first(where: { $0.kind == .grade })
    else {
      return
    }
    let current = s.stored[r.requirementId]?.status ?? .pending
    if let (status, reason) = Rules.gradeStatus(
      current: current, grade: grade, minGrade: r.minGrade ?? 0, recordedAt: now, courseEnd: s.course.endsAt)
    {
      try setStatus(s, r.requirementId, from: current, to: status, reason: reason)
    }
  }

  /// Stores one requirement's status and its history event.
  func setStatus(
    _ s: Standing, _ rid: String, from: RequirementStatus, to: RequirementStatus, reason: String?
  ) throws {
    try storeStatus(s.learner.learnerId, s.course.courseId, rid, from: from, to: to, reason: reason, at: now)
  }

  func creditStatusAfterSync(_ learnerId: String, _ courseId: String) throws -> CreditStatus {
    try sync(learnerId, courseId).synced!
  }

  // MARK: Reads

  public func getRequirements(learnerId: String, courseId: String) throws -> CreditStatus {
    let s = try standing(learnerId, courseId)
    return creditStatus(s, try evaluate(s))
  }

  public func getDashboard(learnerId: String) throws -> [DashboardEntry] {
    guard
      let approved = try db.queryOne(
        """
        SELECT EXISTS (SELECT 1 FROM verifications v
          WHERE v.learner_id = l.learner_id AND v.kind = 'initial' AND v.status = 'approved')
        FROM learners l WHERE l.learner_id = ?
        """, [.text(learnerId)], { $0.bool(0) })
    else { throw CreditError.notFound("learner", learnerId, field: "learnerId") }
    let courses = try db.query(
      "SELECT course_id FROM enrollments WHERE learner_id = ? ORDER BY enrolled_at, course_id",
      [.text(learnerId)]
    ) { $0.text(0) }
    var entries: [DashboardEntry] = []
    for courseId in courses {
      let s = try standing(learnerId, courseId)
      let status = creditStatus(s, try evaluate(s))
      // The purchase option: the providers and their prices, while there is something to buy.
      let open = status.eligibility == .eligible && s.creditTrack && s.request == nil
      let offers = open ? try offers(courseId) : []
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
    return try db.query(
      """
      SELECT \(Rows.notification) FROM notifications WHERE learner_id = ? AND notification_id > ?
      ORDER BY notification_id LIMIT 1000
      """, [.text(learnerId), .int(afterId ?? 0)], Rows.notification)
  }

  public func getHistory(learnerId: String, courseId: String) throws -> [Event] {
    _ = try learner(learnerId)
    _ = try course(courseId)
    return try db.query(
      """
      SELECT \(Rows.event) FROM events WHERE learner_id = ? AND (course_id = ? OR course_id IS NULL)
      ORDER BY event_id
      """, [.text(learnerId), .text(courseId)], Rows.event)
  }

  // MARK: Staff actions

  public func extendPurchaseDeadline(learnerId: String, courseId: String, deadline: Instant) throws
    -> CreditStatus
  {
    let s = try settle(learnerId, courseId)
    guard deadline > s.course.purchaseDeadline else {
      throw CreditError.invalidParams(
        "deadline must be later than the course's own purchase deadline, \(RFC3339.format(s.course.purchaseDeadline)).",
        field: "deadline", reason: "deadline_not_later")
    }
    if s.deadlineOverride != deadline {
      try db.run(
        "UPDATE enrollments SET deadline_override = ? WHERE learner_id = ? AND course_id = ?",
        [.int(deadline), .text(learnerId), .text(courseId)])
      try recordEvent(
        learnerId: learnerId, courseId: courseId, kind: "purchaseDeadlineExtended",
        from: RFC3339.format(s.deadlineOverride ?? s.course.purchaseDeadline), to: RFC3339.format(deadline))
    }
    return try creditStatusAfterSync(learnerId, courseId)
  }

  /// Declines an identity check (a checkpoint, or proctoring of an exam not yet started): final
  /// for credit in this course; the certificate is unaffected.
  public func declineRequirement(learnerId: String, courseId: String, requirementId: String) throws
    -> CreditStatus
  {
    let s = try settle(learnerId, courseId)
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
    if current == .declined { return try creditStatusAfterSync(learnerId, courseId) }
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
    if r.kind == .proctoredExam, try currentAttempt(learnerId, courseId, r.examId ?? "") != nil {
      throw CreditError.invalidState(
        "The exam has already been started; proctoring can only be declined before the exam starts.",
        reason: "exam_started")
    }
    try setStatus(
      s, requirementId, from: status, to: .declined,
      reason:
        "Declined by the learner: no longer eligible for credit in this course; the certificate is still possible."
    )
    return try creditStatusAfterSync(learnerId, courseId)
  }
}

extension CreditService {
  /// A credit request by id, or nil.
  public func findCreditRequest(_ requestId: String) throws -> CreditRequest? {
    try db.queryOne("SELECT \(Rows.request) WHERE r.request_id = ?", [.text(requestId)], Rows.request)
  }
}
