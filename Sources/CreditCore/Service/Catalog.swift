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
    if let existing = try store.course(input.courseId) {
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
    let course = Course(
      courseId: input.courseId, org: key.org, number: key.number, run: key.run, title: input.title,
      startsAt: input.startsAt, endsAt: input.endsAt, passingGrade: input.passingGrade,
      verifiedPrice: input.verifiedPrice, purchaseWindowDays: input.purchaseWindowDays, earnCredit: false)
    try store.insertCourse(course, createdAt: now)
    // A new course has neither offers nor requirements: it does not earn credit yet.
    return course
  }

  public func createProvider(_ p: Provider, secrets: [String]) throws -> Provider {
    if let existing = try store.provider(p.providerId) {
      let stored = try store.providerSecrets(p.providerId)
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
    try store.insertProvider(p, secrets: secrets, createdAt: now)
    var stored = p
    stored.active = true
    return stored
  }

  public func offerCredit(courseId: String, providerId: String, price: Money) throws -> Offer {
    _ = try course(courseId)
    let p = try provider(providerId)
    if var existing = try store.offer(courseId: courseId, providerId: providerId) {
      if !existing.active {
        // A withdrawn offer (or one of an inactive provider) is offered again, at the new price.
        existing.price = price
        existing.active = true
        try store.storeOffer(existing)
        existing.active = p.active
        return existing
      }
      guard existing.price == price else {
        throw CreditError(
          .alreadyExists, "Provider '\(providerId)' already offers credit for \(courseId) at another price.",
          reason: "offer_exists", field: "price")
      }
      return existing
    }
    let offer = Offer(courseId: courseId, providerId: providerId, displayName: p.displayName, price: price)
    try store.insertOffer(offer, createdAt: now)
    return offer
  }

  public func createExam(_ e: Exam) throws -> Exam {
    _ = try course(e.courseId)
    if let existing = try store.exam(courseId: e.courseId, examId: e.examId) {
      guard existing == e else {
        throw CreditError(
          .alreadyExists, "Exam '\(e.examId)' already exists in \(e.courseId) with other details.",
          reason: "exam_exists", field: "examId")
      }
      return existing
    }
    try store.insertExam(e)
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
    let before = try store.requirements(courseId: courseId)
    if before == result { return result }
    let learners = try store.enrolledLearners(courseId: courseId)
    // What time alone changed is recorded first, as the system's; what follows is this caller's.
    for learnerId in learners { _ = try settle(learnerId, courseId) }
    try store.replaceRequirements(courseId: courseId, with: result)
    let kept = result.map(\.requirementId)
    // A changed minimum grade re-decides the grade requirement from the recorded grade.
    let oldGrade = before.first { $0.kind == .grade }
    let newGrade = result.first { $0.kind == .grade }
    for learnerId in learners {
      var s = try standing(learnerId, courseId)
      if let newGrade, oldGrade?.minGrade != newGrade.minGrade {
        try redecideGrade(&s)
      }
      try sync(&s)
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
    var out: [CourseListing] = []
    for c in try store.courses() where !creditOnly || c.earnCredit {
      out.append(CourseListing(course: c, offers: try store.offers(courseId: c.courseId)))
    }
    return out
  }
}
