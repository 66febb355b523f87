import SQLite

public struct CourseInput: Sendable {
  public var courseId: String
  public var title: String
  public var startsAt: Instant
  public var endsAt: Instant
  public var passingGrade: Double
  public var verifiedPrice: Money?
  public var purchaseWindowDays: Int64

  public init(
    courseId: String, title: String, startsAt: Instant, endsAt: Instant, passingGrade: Double,
    verifiedPrice: Money?,
    purchaseWindowDays: Int64
  ) {
    self.courseId = courseId
    self.title = title
    self.startsAt = startsAt
    self.endsAt = endsAt
    self.passingGrade = passingGrade
    self.verifiedPrice = verifiedPrice
    self.purchaseWindowDays = purchaseWindowDays
  }
}

public struct RequirementInput: Sendable, Equatable {
  public var kind: RequirementKind
  public var minGrade: Double?
  public var examId: String?
  public var checkpointId: String?
  public var displayName: String?

  public init(
    kind: RequirementKind, minGrade: Double? = nil, examId: String? = nil, checkpointId: String? = nil,
    displayName: String? = nil
  ) {
    self.kind = kind
    self.minGrade = minGrade
    self.examId = examId
    self.checkpointId = checkpointId
    self.displayName = displayName
  }
}

/// The parts of `course-v1:ORG+NUMBER+RUN`.
public func courseKeyParts(_ courseId: String) -> (org: String, number: String, run: String)? {
  let prefix = "course-v1:"
  guard courseId.hasPrefix(prefix) else { return nil }
  let parts = courseId.dropFirst(prefix.count).split(separator: "+", omittingEmptySubsequences: false)
  guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
  return (String(parts[0]), String(parts[1]), String(parts[2]))
}

extension CreditService {
  public func createCourse(_ input: CourseInput) throws -> Course {
    guard let key = courseKeyParts(input.courseId) else {
      throw CreditError.invalidParams(
        "courseId must have the form course-v1:ORG+NUMBER+RUN.", field: "courseId")
    }
    guard input.endsAt + input.purchaseWindowDays * 86_400 <= RFC3339.maxInstant else {
      throw CreditError.invalidParams(
        "endsAt + purchaseWindowDays must not pass 9999-12-31T23:59:59Z.", field: "purchaseWindowDays",
        reason: "date_out_of_range")
    }
    guard input.endsAt > input.startsAt else {
      throw CreditError.invalidParams(
        "endsAt must be later than startsAt.", field: "endsAt", reason: "ends_before_start")
    }
    if let existing = try? course(input.courseId) {
      let same =
        existing.title == input.title && existing.startsAt == input.startsAt
        && existing.endsAt == input.endsAt
        && existing.passingGrade == input.passingGrade && existing.verifiedPrice == input.verifiedPrice
        && existing.purchaseWindowDays == input.purchaseWindowDays
      guard same else {
        throw CreditError(
          .alreadyExists, "Course \(input.courseId) already exists with other details.",
          reason: "course_exists",
          field: "courseId")
      }
      return existing
    }
    try db.run(
      """
      INSERT INTO courses (course_id, org, number, run, title, starts_at, ends_at, passing_grade,
        verified_price_cents, verified_currency, purchase_window_days, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [
        .text(input.courseId), .text(key.org), .text(key.number), .text(key.run), .text(input.title),
        .int(input.startsAt), .int(input.endsAt), .double(input.passingGrade),
        .optional(input.verifiedPrice?.cents), .optional(input.verifiedPrice?.currency),
        .int(input.purchaseWindowDays), .int(now),
      ])
    return try course(input.courseId)
  }

  public func createProvider(_ p: Provider, secrets: [String]) throws -> Provider {
    if let existing = try? provider(p.providerId) {
      let stored = try providerSecrets(p.providerId)
      var candidate = p
      candidate.active = existing.active
      guard existing == candidate, stored == secrets else {
        throw CreditError(
          .alreadyExists, "Provider '\(p.providerId)' already exists with other details.",
          reason: "provider_exists",
          field: "providerId")
      }
      return existing
    }
    try db.run(
      """
      INSERT INTO providers (provider_id, display_name, url, status_url, description, fulfillment_instructions,
        requires_additional_steps, active, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)
      """,
      [
        .text(p.providerId), .text(p.displayName), .text(p.url), .optional(p.statusUrl),
        .optional(p.description),
        .optional(p.fulfillmentInstructions), .bool(p.requiresAdditionalSteps), .int(now),
      ])
    try storeSecrets(p.providerId, secrets)
    return try provider(p.providerId)
  }

  func providerSecrets(_ providerId: String) throws -> [String] {
    try db.query(
      "SELECT secret FROM provider_secrets WHERE provider_id = ? ORDER BY position", [.text(providerId)]
    ) { $0.text(0) }
  }

  public func offerCredit(courseId: String, providerId: String, price: Money) throws -> Offer {
    _ = try course(courseId)
    let p = try provider(providerId)
    if let existing = try storedOffer(courseId: courseId, providerId: providerId) {
      if !existing.active {
        // A withdrawn offer (or one of an inactive provider) is offered again, at the new price.
        try db.run(
          "UPDATE offers SET price_cents = ?, currency = ?, active = 1 WHERE course_id = ? AND provider_id = ?",
          [.int(price.cents), .text(price.currency), .text(courseId), .text(providerId)])
        return Offer(
          courseId: courseId, providerId: providerId, displayName: p.displayName, price: price,
          active: p.active)
      }
      guard existing.price == price else {
        throw CreditError(
          .alreadyExists, "Provider '\(providerId)' already offers credit for \(courseId) at another price.",
          reason: "offer_exists", field: "price")
      }
      return existing
    }
    try db.run(
      "INSERT INTO offers (course_id, provider_id, price_cents, currency, active, created_at) VALUES (?, ?, ?, ?, 1, ?)",
      [.text(courseId), .text(providerId), .int(price.cents), .text(price.currency), .int(now)])
    return Offer(courseId: courseId, providerId: providerId, displayName: p.displayName, price: price)
  }

  public func createExam(_ e: Exam) throws -> Exam {
    _ = try course(e.courseId)
    if let existing = try? exam(e.courseId, e.examId) {
      guard existing == e else {
        throw CreditError(
          .alreadyExists, "Exam '\(e.examId)' already exists in \(e.courseId) with other details.",
          reason: "exam_exists", field: "examId")
      }
      return existing
    }
    try db.run(
      """
      INSERT INTO exams (course_id, exam_id, display_name, time_limit_minutes, passing_score, proctored)
      VALUES (?, ?, ?, ?, ?, ?)
      """,
      [
        .text(e.courseId), .text(e.examId), .text(e.displayName), .int(e.timeLimitMinutes),
        .double(e.passingScore),
        .bool(e.proctored),
      ])
    return e
  }

  /// Checks a requirement set from its parameters alone (no stored state): no requirement listed
  /// twice, at most one grade requirement.
  public static func checkRequirementInputs(_ inputs: [RequirementInput]) throws {
    var seen = Set<String>()
    var grades = 0
    for (i, input) in inputs.enumerated() {
      if input.kind == .grade { grades += 1 }
      let id = Requirement.id(kind: input.kind, examId: input.examId, checkpointId: input.checkpointId)
      guard seen.insert(id).inserted else {
        throw CreditError.invalidParams(
          "Requirement '\(id)' is listed twice.", field: "requirements[\(i)]", reason: "duplicate_requirement"
        )
      }
    }
    if grades > 1 {
      throw CreditError.invalidParams(
        "A course has at most one grade requirement.", field: "requirements", reason: "duplicate_requirement")
    }
  }

  /// Replaces a course's requirement set. Statuses of requirements that stay are kept; those of
  /// removed requirements are dropped; every enrolled learner is re-evaluated.
  public func setCreditRequirements(courseId: String, _ inputs: [RequirementInput]) throws -> [Requirement] {
    _ = try course(courseId)
    var result: [Requirement] = []
    var seen = Set<String>()
    var gradeCount = 0
    for (i, input) in inputs.enumerated() {
      let field = "requirements[\(i)]"
      var r = Requirement(
        requirementId: Requirement.id(
          kind: input.kind, examId: input.examId, checkpointId: input.checkpointId),
        kind: input.kind, displayName: "", order: i + 1, minGrade: input.minGrade, examId: input.examId,
        checkpointId: input.checkpointId)
      switch input.kind {
      case .grade:
        gradeCount += 1
        r.displayName = input.displayName ?? "Final grade"
      case .proctoredExam:
        let exam: Exam
        do { exam = try self.exam(courseId, input.examId ?? "") } catch var e as CreditError {
          e.field = "\(field).examId"
          throw e
        }
        guard exam.proctored else {
          throw CreditError.invalidParams(
            "Exam '\(exam.examId)' is not proctored; only proctored exams can be credit requirements.",
            field: "\(field).examId", reason: "exam_not_proctored")
        }
        r.displayName = input.displayName ?? exam.displayName
      case .reverification:
        r.displayName = input.displayName ?? "Identity check \(input.checkpointId ?? "")"
      }
      guard seen.insert(r.requirementId).inserted else {
        throw CreditError.invalidParams(
          "Requirement '\(r.requirementId)' is listed twice.", field: field, reason: "duplicate_requirement")
      }
      result.append(r)
    }
    if gradeCount > 1 {
      throw CreditError.invalidParams(
        "A course has at most one grade requirement.", field: "requirements", reason: "duplicate_requirement")
    }
    let before = try requirements(courseId)
    if before == result { return result }
    let learners = try db.query(
      "SELECT learner_id FROM enrollments WHERE course_id = ? ORDER BY learner_id", [.text(courseId)]
    ) { $0.text(0) }
    // What time alone changed is recorded first, as the system's; what follows is this caller's.
    for learnerId in learners { _ = try settle(learnerId, courseId) }
    try db.run("DELETE FROM requirements WHERE course_id = ?", [.text(courseId)])
    for r in result {
      try db.run(
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
    let kept = result.map(\.requirementId)
    let placeholders = kept.isEmpty ? "''" : kept.map { _ in "?" }.joined(separator: ", ")
    // A changed minimum grade re-decides the grade requirement from the recorded grade.
    let oldGrade = before.first { $0.kind == .grade }
    let newGrade = result.first { $0.kind == .grade }
    try db.run(
      """
      DELETE FROM requirement_status WHERE course_id = ? AND NOT EXISTS (
        SELECT 1 FROM credit_requests c WHERE c.learner_id = requirement_status.learner_id
          AND c.course_id = requirement_status.course_id)
        AND requirement_id NOT IN (\(placeholders))
      """, [.text(courseId)] + kept.map { .text($0) })
    for learnerId in learners {
      if let newGrade, oldGrade?.minGrade != newGrade.minGrade {
        try redecideGrade(learnerId, courseId)
      }
      try sync(learnerId, courseId)
      try recordEvent(
        learnerId: learnerId, courseId: courseId, kind: "requirementsChanged",
        detail: kept.isEmpty ? nil : kept.joined(separator: ", "))
    }
    return result
  }

  public struct CourseListing: Sendable {
    public var course: Course
    public var offers: [Offer]
  }

  public func listCourses(creditOnly: Bool) throws -> [CourseListing] {
    let courses = try db.query("SELECT \(Rows.course) FROM courses ORDER BY course_id", [], Rows.course)
    var out: [CourseListing] = []
    for c in courses where !creditOnly || c.earnCredit {
      out.append(CourseListing(course: c, offers: try offers(c.courseId)))
    }
    return out
  }
}
