import CreditCore

// Enrollments, requirement statuses and the standing of a learner in a course, read in one pass.
extension SQLStore {
  public func enrollment(learnerId: String, courseId: String) throws -> EnrollmentRecord? {
    try flush()
    return try connection.one(
      """
      SELECT mode, enrolled_at, eligibility, eligible_at, deadline_override, course_grade, credit_grade
      FROM enrollments WHERE learner_id = ? AND course_id = ?
      """, [.text(learnerId), .text(courseId)]
    ) { s in
      EnrollmentRecord(
        learnerId: learnerId, courseId: courseId, mode: try s.value(0), enrolledAt: s.int64(1),
        eligibility: try s.value(2), eligibleAt: s.optionalInt64(3), deadlineOverride: s.optionalInt64(4),
        courseGrade: s.optionalDouble(5), creditGrade: s.optionalDouble(6))
    }
  }

  public func insertEnrollment(_ e: EnrollmentRecord) throws {
    try flush()
    try connection.run(
      """
      INSERT INTO enrollments (learner_id, course_id, mode, enrolled_at, eligibility, eligible_at,
        deadline_override, course_grade, credit_grade) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [
        .text(e.learnerId), .text(e.courseId), .text(e.mode.rawValue), .int(e.enrolledAt),
        .text(e.eligibility.rawValue), .optional(e.eligibleAt), .optional(e.deadlineOverride),
        .optional(e.courseGrade), .optional(e.creditGrade),
      ])
  }

  public func updateEnrollment(_ e: EnrollmentRecord) throws { queueEnrollment(e) }

  func writeEnrollment(_ e: EnrollmentRecord) throws {
    try connection.run(
      """
      UPDATE enrollments SET mode = ?, eligibility = ?, eligible_at = ?, deadline_override = ?, course_grade = ?,
        credit_grade = ?
      WHERE learner_id = ? AND course_id = ?
      """,
      [
        .text(e.mode.rawValue), .text(e.eligibility.rawValue), .optional(e.eligibleAt),
        .optional(e.deadlineOverride), .optional(e.courseGrade), .optional(e.creditGrade), .text(e.learnerId),
        .text(e.courseId),
      ])
  }

  public func storeStatus(learnerId: String, courseId: String, _ state: RequirementState, at: Instant) throws
  {
    queueStatus(
      StatusKey(learnerId: learnerId, courseId: courseId, requirementId: state.requirement.requirementId),
      QueuedStatus(status: state.status, reason: state.reason, at: state.updatedAt ?? at))
  }

  func writeStatuses(_ rows: [(StatusKey, QueuedStatus)]) throws {
    let sql = multiRow(
      "status",
      "INSERT INTO requirement_status (learner_id, course_id, requirement_id, status, reason, updated_at)",
      columns: 6, rows: rows.count,
      suffix: """

          ON CONFLICT (learner_id, course_id, requirement_id)
          DO UPDATE SET status = excluded.status, reason = excluded.reason, updated_at = excluded.updated_at
        """)
    var values: [DBValue] = []
    values.reserveCapacity(rows.count * 6)
    for (k, s) in rows {
      values += [
        .text(k.learnerId), .text(k.courseId), .text(k.requirementId), .text(s.status.rawValue),
        .optional(s.reason), .int(s.at),
      ]
    }
    try connection.run(sql, values)
  }

  // MARK: The standing

  /// The learner, the course, the enrollment with its credit request, and one row per requirement
  /// with this learner's status and the requirement's exam.
  /// With `facts`, the learner's and the course's columns (else NULLs: both are cached); with
  /// `approved`, whether an initial verification was ever approved (the dashboard's certificate).
  static func standingSelect(facts: Bool, approved: Bool) -> String {
    let learner = facts ? "l.full_name, l.email, l.country, l.mailing_address" : "NULL, NULL, NULL, NULL"
    let course =
      facts
      ? """
      c.org, c.number, c.run, c.title, c.starts_at, c.ends_at, c.passing_grade, c.verified_price_cents,
          c.verified_currency, c.purchase_window_days
      """
      : "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
    let joins =
      facts
      ? """

          JOIN learners l ON l.learner_id = e.learner_id
          JOIN courses c ON c.course_id = e.course_id
      """ : ""
    let everApproved =
      approved
      ? """
      EXISTS (SELECT 1 FROM verifications v
            WHERE v.learner_id = e.learner_id AND v.kind = 'initial' AND v.status = 'approved')
      """ : "0"
    return """
      SELECT \(learner),
        \(course),
        e.mode, e.enrolled_at, e.eligibility, e.eligible_at, e.deadline_override, e.course_grade, e.credit_grade,
        r.request_id, r.provider_id, p.display_name, r.status, r.created_at, r.decided_at, p.url, p.status_url,
        p.description,
        q.requirement_id, q.kind, q.display_name, q.position, q.min_grade, q.exam_id, q.checkpoint_id,
        st.status, st.reason, st.updated_at,
        x.display_name, x.time_limit_minutes, x.passing_score, x.proctored,
        e.course_id,
        \(everApproved)
      FROM enrollments e\(joins)
        LEFT JOIN credit_requests r ON r.learner_id = e.learner_id AND r.course_id = e.course_id
        LEFT JOIN providers p ON p.provider_id = r.provider_id
        LEFT JOIN requirements q ON q.course_id = e.course_id
        LEFT JOIN requirement_status st
          ON st.learner_id = e.learner_id AND st.course_id = e.course_id AND st.requirement_id = q.requirement_id
        LEFT JOIN exams x ON x.course_id = q.course_id AND x.exam_id = q.exam_id
      """
  }

  static let standingSQL =
    standingSelect(facts: true, approved: false)
    + "\nWHERE e.learner_id = ? AND e.course_id = ?\nORDER BY q.position"
  static let standingCachedSQL =
    standingSelect(facts: false, approved: false)
    + "\nWHERE e.learner_id = ? AND e.course_id = ?\nORDER BY q.position"
  /// Every course of a learner; put in order here (by enrollment, then position) rather than by a
  /// sorter in the engine.
  static let standingsSQL = standingSelect(facts: true, approved: true) + "\nWHERE e.learner_id = ?"

  /// The learner's exam attempts (tag 0), exam scores (1) and verifications (2) in one statement;
  /// every branch has the same column types. Put in order of `seq` here rather than by the engine
  /// (a sorter per load).
  static func activitySQL(course: Bool, started: Bool) -> String {
    let attempts = started ? "(a.current = 1 OR a.status = 'started')" : "a.current = 1"
    // Branches are indented: a trace reader splits statements at lines that start with a keyword.
    return """
      SELECT 0, a.course_id, a.exam_id, a.attempt_id, a.status, a.review, a.review_comment, a.started_at,
        a.deadline, a.submitted_at, a.seq, a.proctored, a.timed_out, a.current, NULL
      FROM exam_attempts a WHERE a.learner_id = ?\(course ? " AND a.course_id = ?" : "") AND \(attempts)
        UNION ALL
        SELECT 1, s.course_id, s.exam_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, s.score
        FROM exam_scores s WHERE s.learner_id = ?\(course ? " AND s.course_id = ?" : "")
        UNION ALL
        SELECT 2, v.course_id, v.checkpoint_id, v.verification_id, v.status, v.kind, v.reason, v.submitted_at,
          v.reviewed_at, v.expires_at, v.seq, NULL, NULL, NULL, NULL
        FROM verifications v WHERE v.learner_id = ?\(course ? " AND (v.kind = 'initial' OR v.course_id = ?)" : "")
      """
  }
  static let activityRead = activitySQL(course: true, started: false)
  static let activityWrite = activitySQL(course: true, started: true)
  static let activityAll = activitySQL(course: false, started: false)

  public func standing(learnerId: String, courseId: String, forWrite: Bool) throws -> StandingRecord? {
    try flush()
    let cached = learners[learnerId] != nil && courseFacts[courseId] != nil
    var records = try standingRows(
      cached ? Self.standingCachedSQL : Self.standingSQL, [.text(learnerId), .text(courseId)],
      learnerId: learnerId)
    guard !records.isEmpty else { return nil }
    // A read needs attempts, scores and verifications only for the requirements that use them.
    if !forWrite, !records[0].requirements.contains(where: { $0.kind != .grade }) { return records[0] }
    let l = DBValue.text(learnerId)
    let c = DBValue.text(courseId)
    try readActivity(forWrite ? Self.activityWrite : Self.activityRead, [l, c, l, c, l, c], into: &records)
    return records[0]
  }

  public func standings(learnerId: String) throws -> [StandingRecord] {
    try flush()
    var records = try standingRows(Self.standingsSQL, [.text(learnerId)], learnerId: learnerId)
    guard !records.isEmpty else { return [] }
    if records.count > 1 {
      records.sort {
        ($0.enrollment.enrolledAt, $0.course.courseId) < ($1.enrollment.enrolledAt, $1.course.courseId)
      }
    }
    for i in records.indices where records[i].requirements.count > 1 {
      records[i].requirements.sort { $0.order < $1.order }
    }
    // Attempts, scores and verifications only for the requirements that use them.
    if !records.contains(where: { $0.requirements.contains { $0.kind != .grade } }) { return records }
    let l = DBValue.text(learnerId)
    try readActivity(Self.activityAll, [l, l, l], into: &records)
    return records
  }

  private func standingRows(_ sql: String, _ values: [DBValue], learnerId: String) throws -> [StandingRecord]
  {
    var records: [StandingRecord] = []
    var index: [String: Int] = [:]
    try connection.query(sql, values) { s in
      let courseId = s.text(44)
      let i: Int
      if let known = index[courseId] {
        i = known
      } else {
        i = records.count
        index[courseId] = i
        // Learners and the facts of a course never change once stored: decoded once per process.
        let learner =
          learners[learnerId]
          ?? Learner(
            learnerId: learnerId, fullName: s.text(0), email: s.text(1), country: s.text(2),
            mailingAddress: s.optionalText(3))
        if learners[learnerId] == nil { remember(learner) }
        let course: Course
        if let c = courseFacts[courseId] {
          course = c
        } else {
          course = Course(
            courseId: courseId, org: s.text(4), number: s.text(5), run: s.text(6), title: s.text(7),
            startsAt: s.int64(8), endsAt: s.int64(9), passingGrade: s.double(10),
            verifiedPrice: s.isNull(11) ? nil : Money(cents: s.int64(11), currency: s.text(12)),
            purchaseWindowDays: s.int64(13), earnCredit: false)
          if courseFacts.count >= cacheLimit { courseFacts.removeAll(keepingCapacity: true) }
          courseFacts[courseId] = course
        }
        let enrollment = EnrollmentRecord(
          learnerId: learnerId, courseId: courseId, mode: try s.value(14), enrolledAt: s.int64(15),
          eligibility: try s.value(16), eligibleAt: s.optionalInt64(17),
          deadlineOverride: s.optionalInt64(18),
          courseGrade: s.optionalDouble(19), creditGrade: s.optionalDouble(20))
        let request =
          s.isNull(21)
          ? nil
          : CreditRequest(
            requestId: s.text(21), learnerId: learnerId, courseId: courseId, providerId: s.text(22),
            providerName: s.text(23), status: try s.value(24), createdAt: s.int64(25),
            decidedAt: s.optionalInt64(26), providerUrl: s.text(27), providerStatusUrl: s.optionalText(28),
            providerDescription: s.optionalText(29))
        records.append(
          StandingRecord(
            learner: learner, course: course, enrollment: enrollment, request: request, requirements: [],
            exams: [:], statuses: [:], attempts: [], scores: [:], verifications: [],
            initialApproved: s.bool(45)))
      }
      guard !s.isNull(30) else { return }  // a course without requirements
      let r = try Rows.requirement(s, from: 30)
      records[i].requirements.append(r)
      if !s.isNull(37) {
        records[i].statuses[r.requirementId] = RequirementState(
          requirement: r, status: try s.value(37), reason: s.optionalText(38), updatedAt: s.int64(39))
      }
      if let examId = r.examId, !s.isNull(40) {
        records[i].exams[examId] = Exam(
          courseId: courseId, examId: examId, displayName: s.text(40), timeLimitMinutes: s.int64(41),
          passingScore: s.double(42), proctored: s.bool(43))
      }
    }
    return records
  }

  private func readActivity(_ sql: String, _ values: [DBValue], into records: inout [StandingRecord]) throws {
    var index: [String: Int] = [:]
    for (i, r) in records.enumerated() { index[r.course.courseId] = i }
    let learnerId = records[0].learner.learnerId
    var attempts: [(Int64, Int, StoredAttempt)] = []
    var verifications: [(Int64, Verification)] = []
    try connection.query(sql, values) { s in
      let courseId = s.optionalText(1)
      switch s.int64(0) {
      case 0:
        guard let i = index[courseId ?? ""] else { return }
        let a = ExamAttempt(
          attemptId: s.text(3), learnerId: learnerId, courseId: courseId!, examId: s.text(2),
          proctored: s.bool(11),
          status: try s.value(4), startedAt: s.int64(7), deadline: s.int64(8),
          submittedAt: s.optionalInt64(9),
          timedOut: s.bool(12), score: nil, review: try s.optionalValue(5), reviewComment: s.optionalText(6))
        attempts.append((s.int64(10), i, StoredAttempt(a, current: s.bool(13))))
      case 1:
        guard let i = index[courseId ?? ""] else { return }
        records[i].scores[s.text(2)] = s.double(14)
      default:
        let v = Verification(
          verificationId: s.text(3), learnerId: learnerId, kind: try s.value(5), courseId: courseId,
          checkpointId: s.optionalText(2), status: try s.value(4), submittedAt: s.int64(7),
          reviewedAt: s.optionalInt64(8), expiresAt: s.optionalInt64(9), reason: s.optionalText(6))
        verifications.append((s.int64(10), v))
      }
    }
    if attempts.count > 1 { attempts.sort { $0.0 < $1.0 } }
    for (_, i, var a) in attempts {
      a.attempt.score = records[i].scores[a.attempt.examId]
      records[i].attempts.append(a)
    }
    if verifications.isEmpty { return }
    if verifications.count > 1 { verifications.sort { $0.0 < $1.0 } }
    let initial = verifications.lazy.map(\.1).filter { $0.kind == .initial }
    for i in records.indices {
      let courseId = records[i].course.courseId
      records[i].verifications =
        Array(initial)
        + verifications.lazy.map(\.1).filter { $0.kind == .reverification && $0.courseId == courseId }
    }
  }
}
