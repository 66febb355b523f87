import CreditCore

// Courses, providers, offers, exams and requirements.
extension SQLStore {
  public func course(_ courseId: String) throws -> Course? {
    try flush()
    return try connection.one(
      SQLText.courseById, [.text(courseId)], Rows.course)
  }

  public func courseFacts(_ courseId: String) throws -> Course? {
    if let c = courseFacts[courseId] { return c }
    guard var c = try course(courseId) else { return nil }
    c.earnCredit = false
    if courseFacts.count >= cacheLimit { courseFacts.removeAll(keepingCapacity: true) }
    courseFacts[courseId] = c
    return c
  }

  public func courses() throws -> [Course] {
    try flush()
    return try connection.all(SQLText.allCourses, [], Rows.course)
  }

  public func insertCourse(_ c: Course, createdAt: Instant) throws {
    try flush()
    try connection.run(
      """
      INSERT INTO courses (course_id, org, number, run, title, starts_at, ends_at, passing_grade,
        verified_price_cents, verified_currency, purchase_window_days, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [
        .text(c.courseId), .text(c.org), .text(c.number), .text(c.run), .text(c.title),
        .int(c.startsAt), .int(c.endsAt), .double(c.passingGrade),
        .optional(c.verifiedPrice?.cents), .optional(c.verifiedPrice?.currency),
        .int(c.purchaseWindowDays), .int(createdAt),
      ])
  }

  public func provider(_ providerId: String) throws -> Provider? {
    try flush()
    return try connection.one(
      SQLText.providerById, [.text(providerId)], Rows.provider)
  }

  public func providerForPurchase(_ providerId: String, courseId: String) throws -> (
    Provider, Offer?, String?
  )? {
    try flush()
    return try connection.one(
      """
      SELECT p.provider_id, p.display_name, p.url, p.status_url, p.description, p.fulfillment_instructions,
        p.requires_additional_steps, p.active, o.price_cents, o.currency,
        (SELECT s.secret FROM provider_secrets s WHERE s.provider_id = p.provider_id ORDER BY s.position LIMIT 1)
      FROM providers p LEFT JOIN offers o ON o.provider_id = p.provider_id AND o.course_id = ? AND o.active = 1
      WHERE p.provider_id = ?
      """, [.text(courseId), .text(providerId)]
    ) { s in
      let p = Rows.provider(s)
      let offer =
        s.isNull(8) || !p.active
        ? nil
        : Offer(
          courseId: courseId, providerId: p.providerId, displayName: p.displayName,
          price: Money(cents: s.int64(8), currency: s.text(9)))
      return (p, offer, s.optionalText(10))
    }
  }

  public func providerSecrets(_ providerId: String) throws -> [String] {
    try flush()
    return try connection.all(
      "SELECT secret FROM provider_secrets WHERE provider_id = ? ORDER BY position", [.text(providerId)]
    ) { $0.text(0) }
  }

  public func insertProvider(_ p: Provider, secrets: [String], createdAt: Instant) throws {
    try flush()
    try connection.run(
      """
      INSERT INTO providers (provider_id, display_name, url, status_url, description, fulfillment_instructions,
        requires_additional_steps, active, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)
      """,
      [
        .text(p.providerId), .text(p.displayName), .text(p.url), .optional(p.statusUrl),
        .optional(p.description), .optional(p.fulfillmentInstructions), .bool(p.requiresAdditionalSteps),
        .int(createdAt),
      ])
    try insertSecrets(p.providerId, secrets)
  }

  func insertSecrets(_ providerId: String, _ secrets: [String]) throws {
    for (i, secret) in secrets.enumerated() {
      try connection.run(
        "INSERT INTO provider_secrets (provider_id, position, secret) VALUES (?, ?, ?)",
        [.text(providerId), .int(i), .text(secret)])
    }
  }

  public func offers(courseId: String) throws -> [Offer] {
    try flush()
    return try connection.all(
      SQLText.activeOffers,
      [.text(courseId)], Rows.offer)
  }

  public func offer(courseId: String, providerId: String) throws -> Offer? {
    try flush()
    return try connection.one(
      SQLText.offerOfProvider,
      [.text(courseId), .text(providerId)],
      Rows.offer)
  }

  public func insertOffer(_ o: Offer, createdAt: Instant) throws {
    try flush()
    try connection.run(
      "INSERT INTO offers (course_id, provider_id, price_cents, currency, active, created_at) VALUES (?, ?, ?, ?, 1, ?)",
      [.text(o.courseId), .text(o.providerId), .int(o.price.cents), .text(o.price.currency), .int(createdAt)])
  }

  public func exam(courseId: String, examId: String) throws -> Exam? {
    let key = courseId + "\u{1F}" + examId
    if let e = exams[key] { return e }
    try flush()
    let e = try connection.one(
      SQLText.examById, [.text(courseId), .text(examId)],
      Rows.exam)
    if let e {
      if exams.count >= cacheLimit { exams.removeAll(keepingCapacity: true) }
      exams[key] = e
    }
    return e
  }

  public func insertExam(_ e: Exam) throws {
    try flush()
    try connection.run(
      """
      INSERT INTO exams (course_id, exam_id, display_name, time_limit_minutes, passing_score, proctored)
      VALUES (?, ?, ?, ?, ?, ?)
      """,
      [
        .text(e.courseId), .text(e.examId), .text(e.displayName), .int(e.timeLimitMinutes),
        .double(e.passingScore), .bool(e.proctored),
      ])
  }

  public func requirements(courseId: String) throws -> [Requirement] {
    try flush()
    return try connection.all(
      SQLText.requirementsOfCourse, [.text(courseId)]
    ) { try Rows.requirement($0) }
  }

  public func replaceRequirements(courseId: String, with requirements: [Requirement]) throws {
    try flush()
    try connection.run("DELETE FROM requirements WHERE course_id = ?", [.text(courseId)])
    for r in requirements {
      try connection.run(
        """
        INSERT INTO requirements (course_id, requirement_id, kind, display_name, position, min_grade, exam_id,
          checkpoint_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
          .text(courseId), .text(r.requirementId), .text(r.kind.rawValue), .text(r.displayName),
          .int(r.order),
          .optional(r.minGrade), .optional(r.examId), .optional(r.checkpointId),
        ])
    }
    let kept = requirements.map(\.requirementId)
    let placeholders = kept.isEmpty ? "''" : kept.map { _ in "?" }.joined(separator: ", ")
    try connection.run(
      """
      DELETE FROM requirement_status WHERE course_id = ? AND NOT EXISTS (
        SELECT 1 FROM credit_requests c WHERE c.learner_id = requirement_status.learner_id
          AND c.course_id = requirement_status.course_id)
        AND requirement_id NOT IN (\(placeholders))
      """, [.text(courseId)] + kept.map { .text($0) })
  }

  public func enrolledLearners(courseId: String) throws -> [String] {
    try flush()
    return try connection.all(
      "SELECT learner_id FROM enrollments WHERE course_id = ? ORDER BY learner_id", [.text(courseId)]
    ) { $0.text(0) }
  }
}

/// Statements built once (an interpolated literal would be built again on every call).
extension SQLText {
  static let courseById = "SELECT \(Rows.course) FROM courses WHERE course_id = ?"
  static let allCourses = "SELECT \(Rows.course) FROM courses ORDER BY course_id"
  static let providerById = "SELECT \(Rows.provider) FROM providers WHERE provider_id = ?"
  static let activeOffers =
    "SELECT \(Rows.offer) WHERE o.course_id = ? AND o.active = 1 AND p.active = 1 ORDER BY o.provider_id"
  static let offerOfProvider = "SELECT \(Rows.offer) WHERE o.course_id = ? AND o.provider_id = ?"
  static let examById = "SELECT \(Rows.exam) FROM exams WHERE course_id = ? AND exam_id = ?"
  static let requirementsOfCourse =
    "SELECT \(Rows.requirement) FROM requirements WHERE course_id = ? ORDER BY position"
}
