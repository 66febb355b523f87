import CreditCore
import CreditStore
import Testing

/// An in-memory store, a test clock and the service, with each operation in its own transaction
/// as the server runs it.
final class World {
  static let courseId = "course-v1:Org+CS101+2026_T1"
  /// 2026-01-01T00:00:00Z.
  static let startsAt: Instant = 1_767_225_600
  /// 2026-06-30T23:59:59Z.
  static let endsAt: Instant = 1_782_863_999
  /// 2026-03-01T00:00:00Z.
  static let midCourse: Instant = 1_772_323_200

  let clock: TestClock
  let service: CreditService

  init(now: Instant = World.midCourse) throws {
    clock = TestClock(now)
    service = CreditService(
      store: try StoreOpener.openStore(path: ":memory:", now: now), clock: clock, deterministicIds: true)
  }

  /// Runs `body` as `actor` in a write transaction, committed on success.
  func write<T>(as actor: String = "admin", _ body: (CreditService) throws -> T) throws -> T {
    service.actor = actor
    var result: T?
    try service.scope.inGroup(writing: true, lockKeys: [.everything]) { _ in
      result = try body(service)
      return .commit
    }
    return result!
  }

  static func courseInput(title: String = "Intro to Credit", windowDays: Int64 = 365) -> CourseInput {
    CourseInput(
      courseId: courseId, title: title, startsAt: startsAt, endsAt: endsAt, passingGrade: 0.5,
      verifiedPrice: Money(cents: 4900, currency: "USD"), purchaseWindowDays: windowDays)
  }

  /// A course with the given requirements and a learner `ada`, enrolled when `mode` is given.
  @discardableResult
  func setUp(requirements: [RequirementInput] = [], enroll mode: EnrollmentMode? = nil) throws -> Course {
    let course = try write { try $0.createCourse(World.courseInput()) }
    if !requirements.isEmpty {
      _ = try write { try $0.setCreditRequirements(courseId: World.courseId, requirements) }
    }
    _ = try write {
      try $0.createLearner(
        Learner(learnerId: "ada", fullName: "Ada Lovelace", email: "ada@example.org", country: "GB"))
    }
    if let mode {
      _ = try write(as: "learner:ada") {
        try $0.enroll(learnerId: "ada", courseId: World.courseId, mode: mode)
      }
    }
    return course
  }

  func requirements() throws -> CreditStatus {
    try service.getRequirements(learnerId: "ada", courseId: World.courseId)
  }

  func history() throws -> [Event] {
    try service.getHistory(learnerId: "ada", courseId: World.courseId)
  }

  func notifications(_ kind: NotificationKind) throws -> [CreditCore.Notification] {
    try service.listNotifications(learnerId: "ada", afterId: nil).filter { $0.kind == kind }
  }
}

/// The `CreditError` that `body` throws, or nil (and a recorded issue) when it throws none or another.
func creditError(_ body: () throws -> Void) -> CreditError? {
  do {
    try body()
    Issue.record("expected a CreditError, got success")
  } catch let e as CreditError {
    return e
  } catch {
    Issue.record("expected a CreditError, got \(error)")
  }
  return nil
}

@Suite struct CatalogServiceTests {
  @Test func createCourseWithSameDataTwiceReturnsTheCourse() throws {
    let world = try World()
    let first = try world.write { try $0.createCourse(World.courseInput()) }
    #expect(first.org == "Org")
    #expect(first.number == "CS101")
    #expect(first.run == "2026_T1")
    #expect(first.endsAt == World.endsAt)
    #expect(first.earnCredit == false)
    let again = try world.write { try $0.createCourse(World.courseInput()) }
    #expect(again == first)
  }

  @Test func createCourseWithOtherDataIsAlreadyExistsAndChangesNothing() throws {
    let world = try World()
    let first = try world.write { try $0.createCourse(World.courseInput()) }
    let e = creditError {
      _ = try world.write { try $0.createCourse(World.courseInput(title: "Another title")) }
    }
    #expect(e?.kind == .alreadyExists)
    #expect(e?.field == "courseId")
    let e2 = creditError { _ = try world.write { try $0.createCourse(World.courseInput(windowDays: 30)) } }
    #expect(e2?.kind == .alreadyExists)
    #expect(try world.service.listCourses(creditOnly: false).map(\.course) == [first])
  }

  @Test func earnCreditNeedsAnActiveOfferAndRequirements() throws {
    let world = try World()
    try world.setUp()
    _ = try world.write {
      try $0.createProvider(
        Provider(
          providerId: "asu", displayName: "ASU", url: "https://asu.example", requiresAdditionalSteps: false,
          active: true), secrets: ["secret-one"])
    }
    _ = try world.write {
      try $0.offerCredit(
        courseId: World.courseId, providerId: "asu", price: Money(cents: 30_000, currency: "USD"))
    }
    #expect(try world.service.listCourses(creditOnly: false).first?.course.earnCredit == false)
    #expect(try world.service.listCourses(creditOnly: true).isEmpty)
    _ = try world.write {
      try $0.setCreditRequirements(courseId: World.courseId, [.init(kind: .grade, minGrade: 0.7)])
    }
    let listed = try world.service.listCourses(creditOnly: true)
    #expect(listed.map(\.course.courseId) == [World.courseId])
    #expect(listed.first?.course.earnCredit == true)
    #expect(listed.first?.offers.map(\.providerId) == ["asu"])
  }
}

@Suite struct EnrollmentServiceTests {
  @Test func auditThenVerifiedUpgradesAndKeepsEnrolledAt() throws {
    let world = try World()
    try world.setUp(requirements: [.init(kind: .grade, minGrade: 0.7)])
    let audit = try world.write { try $0.enroll(learnerId: "ada", courseId: World.courseId, mode: .audit) }
    #expect(audit.mode == .audit)
    #expect(audit.creditTrack == false)
    #expect(audit.enrolledAt == World.midCourse)
    #expect(try world.requirements().creditTrack == false)

    world.clock.now += 86_400
    let verified = try world.write {
      try $0.enroll(learnerId: "ada", courseId: World.courseId, mode: .verified)
    }
    #expect(verified.mode == .verified)
    #expect(verified.creditTrack)
    #expect(verified.enrolledAt == World.midCourse)
    #expect(try world.requirements().creditTrack)
    #expect(
      try world.history().contains {
        $0.kind == "enrollmentUpgraded" && $0.from == "audit" && $0.to == "verified"
      })
  }

  @Test func enrollingAgainInTheSameModeReturnsTheEnrollmentUnchanged() throws {
    let world = try World()
    try world.setUp(enroll: .verified)
    world.clock.now += 3600
    let again = try world.write { try $0.enroll(learnerId: "ada", courseId: World.courseId, mode: .verified) }
    #expect(
      again
        == Enrollment(
          learnerId: "ada", courseId: World.courseId, mode: .verified, enrolledAt: World.midCourse))
  }

  @Test func verifiedToAuditIsRefusedAsInvalidState() throws {
    let world = try World()
    try world.setUp(enroll: .verified)
    let e = creditError {
      _ = try world.write { try $0.enroll(learnerId: "ada", courseId: World.courseId, mode: .audit) }
    }
    #expect(e?.kind == .invalidState)
    #expect(try world.requirements().creditTrack)
  }

  @Test func enrollingAfterTheEndIsDeadlinePassed() throws {
    let world = try World()
    try world.setUp()
    world.clock.now = World.endsAt + 1
    let e = creditError {
      _ = try world.write { try $0.enroll(learnerId: "ada", courseId: World.courseId, mode: .audit) }
    }
    #expect(e?.kind == .deadlinePassed)
    let missing = creditError { _ = try world.requirements() }
    #expect(missing?.kind == .notFound)
    #expect(missing?.reason == "not_enrolled")
  }

  @Test func enrollingAtTheEndInstantIsAllowed() throws {
    let world = try World()
    try world.setUp()
    world.clock.now = World.endsAt
    let e = try world.write { try $0.enroll(learnerId: "ada", courseId: World.courseId, mode: .verified) }
    #expect(e.enrolledAt == World.endsAt)
  }

  @Test func upgradingAfterTheEndIsDeadlinePassed() throws {
    let world = try World()
    try world.setUp(enroll: .audit)
    world.clock.now = World.endsAt + 1
    let e = creditError {
      _ = try world.write { try $0.enroll(learnerId: "ada", courseId: World.courseId, mode: .verified) }
    }
    #expect(e?.kind == .deadlinePassed)
    #expect(try world.requirements().creditTrack == false)
  }
}

@Suite struct GradeServiceTests {
  @Test func passingGradeRecordedTwiceSendsExactlyOneCreditEligibleEmail() throws {
    let world = try World()
    try world.setUp(requirements: [.init(kind: .grade, minGrade: 0.7)], enroll: .verified)
    #expect(try world.requirements().eligibility == .notYetEligible)

    let first = try world.write(as: "staff") {
      try $0.recordGrade(learnerId: "ada", courseId: World.courseId, grade: 0.8, examId: nil)
    }
    #expect(first.eligibility == .eligible)
    #expect(first.requirements.map(\.status) == [.satisfied])
    #expect(first.purchaseDeadline == World.endsAt + 365 * 86_400)

    world.clock.now += 60
    let second = try world.write(as: "staff") {
      try $0.recordGrade(learnerId: "ada", courseId: World.courseId, grade: 0.9, examId: nil)
    }
    #expect(second.eligibility == .eligible)

    let emails = try world.notifications(.creditEligible)
    #expect(emails.count == 1)
    #expect(emails.first?.to == "ada@example.org")
    #expect(emails.first?.createdAt == World.midCourse)
  }

  @Test func lowerGradeAfterSatisfiedKeepsRequirementSatisfied() throws {
    let world = try World()
    try world.setUp(requirements: [.init(kind: .grade, minGrade: 0.7)], enroll: .verified)
    _ = try world.write {
      try $0.recordGrade(learnerId: "ada", courseId: World.courseId, grade: 0.8, examId: nil)
    }
    let rescored = try world.write {
      try $0.recordGrade(learnerId: "ada", courseId: World.courseId, grade: 0.2, examId: nil)
    }
    #expect(rescored.requirements.first?.status == .satisfied)
    #expect(rescored.eligibility == .eligible)
  }

  @Test func gradeBelowMinimumStaysPendingWithReason() throws {
    let world = try World()
    try world.setUp(requirements: [.init(kind: .grade, minGrade: 0.7)], enroll: .verified)
    let status = try world.write {
      try $0.recordGrade(learnerId: "ada", courseId: World.courseId, grade: 0.5, examId: nil)
    }
    #expect(status.requirements.first?.status == .pending)
    #expect(status.requirements.first?.reason == "Current grade 0.5; the minimum is 0.7.")
    #expect(status.eligibility == .notYetEligible)
    #expect(status.purchaseDeadline == nil)
  }

  @Test func firstPassingGradeAfterTheEndFailsAndMakesIneligible() throws {
    let world = try World()
    try world.setUp(requirements: [.init(kind: .grade, minGrade: 0.7)], enroll: .verified)
    world.clock.now = World.endsAt + 10
    let status = try world.write {
      try $0.recordGrade(learnerId: "ada", courseId: World.courseId, grade: 0.9, examId: nil)
    }
    #expect(status.requirements.first?.status == .failed)
    #expect(status.requirements.first?.reason?.lowercased().contains("deadline passed") == true)
    #expect(status.eligibility == .ineligible)
    #expect(try world.notifications(.creditEligible).isEmpty)
  }
}

@Suite struct HistoryServiceTests {
  @Test func eventsComeInOrderWithTheirActors() throws {
    let world = try World()
    try world.setUp(requirements: [.init(kind: .grade, minGrade: 0.7)], enroll: .verified)
    world.clock.now += 100
    _ = try world.write(as: "staff") {
      try $0.recordGrade(learnerId: "ada", courseId: World.courseId, grade: 0.75, examId: nil)
    }
    let events = try world.history()
    #expect(
      events.map(\.kind) == ["enrolled", "gradeRecorded", "requirementStatusChanged", "eligibilityChanged"])
    #expect(events.map(\.actor) == ["learner:ada", "staff", "staff", "staff"])
    #expect(
      events.map(\.at) == [
        World.midCourse, World.midCourse + 100, World.midCourse + 100, World.midCourse + 100,
      ])
    #expect(zip(events, events.dropFirst()).allSatisfy { $0.eventId < $1.eventId })
    #expect(events[0].to == "verified")
    #expect(events[1].to == "0.75")
    #expect(events[2].requirementId == "grade")
    #expect(events[2].from == "pending")
    #expect(events[2].to == "satisfied")
    #expect(events[3].from == "notYetEligible")
    #expect(events[3].to == "eligible")
  }

  @Test func courseEndMakesAuditLearnerIneligibleRecordedAtEndPlusOneBySystemOnNextWrite() throws {
    let world = try World()
    try world.setUp(requirements: [.init(kind: .grade, minGrade: 0.7)], enroll: .audit)
    #expect(try world.requirements().eligibility == .notYetEligible)

    world.clock.now = World.endsAt + 5 * 86_400
    #expect(try world.requirements().eligibility == .ineligible)

    _ = try world.write(as: "staff") {
      try $0.recordGrade(learnerId: "ada", courseId: World.courseId, grade: 0.9, examId: nil)
    }
    let changes = try world.history().filter { $0.kind == "eligibilityChanged" }
    #expect(changes.count == 1)
    #expect(changes.first?.at == World.endsAt + 1)
    #expect(changes.first?.actor == "system")
    #expect(changes.first?.from == "notYetEligible")
    #expect(changes.first?.to == "ineligible")
    // The change time caused is recorded before the write that noticed it.
    let kinds = try world.history().map(\.kind)
    #expect(kinds.firstIndex(of: "eligibilityChanged")! < kinds.firstIndex(of: "gradeRecorded")!)
  }

  @Test func declineIsRecordedWithTheLearnerAsActor() throws {
    let world = try World()
    try world.setUp(
      requirements: [
        .init(kind: .grade, minGrade: 0.7),
        .init(kind: .reverification, checkpointId: "mid", displayName: "Midterm"),
      ], enroll: .verified)
    let status = try world.write(as: "learner:ada") {
      try $0.declineRequirement(
        learnerId: "ada", courseId: World.courseId, requirementId: "reverification:mid")
    }
    #expect(status.eligibility == .ineligible)
    #expect(status.requirements.map(\.status) == [.pending, .declined])
    let last = try world.history().suffix(2)
    #expect(last.map(\.kind) == ["requirementStatusChanged", "eligibilityChanged"])
    #expect(last.map(\.actor) == ["learner:ada", "learner:ada"])
  }
}

@Suite struct EligibilityServiceTests {
  @Test func auditLearnerWhoDeclinesIsIneligibleAtOnce() throws {
    let world = try World()
    try world.setUp(
      requirements: [.init(kind: .reverification, checkpointId: "mid", displayName: "Midterm")],
      enroll: .audit)
    let status = try world.write(as: "learner:ada") {
      try $0.declineRequirement(
        learnerId: "ada", courseId: World.courseId, requirementId: "reverification:mid")
    }
    #expect(status.creditTrack == false)
    #expect(status.eligibility == .ineligible)
  }

  @Test func gradeRequirementCannotBeDeclined() throws {
    let world = try World()
    try world.setUp(requirements: [.init(kind: .grade, minGrade: 0.7)], enroll: .verified)
    let e = creditError {
      _ = try world.write {
        try $0.declineRequirement(learnerId: "ada", courseId: World.courseId, requirementId: "grade")
      }
    }
    #expect(e?.kind == .invalidState)
    #expect(try world.requirements().requirements.first?.status == .pending)
  }

  @Test func extendedPurchaseDeadlineIsShownWhileEligible() throws {
    let world = try World()
    try world.setUp(requirements: [.init(kind: .grade, minGrade: 0.7)], enroll: .verified)
    let own = World.endsAt + 365 * 86_400
    let early = try world.write(as: "staff") {
      try $0.extendPurchaseDeadline(learnerId: "ada", courseId: World.courseId, deadline: own + 86_400)
    }
    #expect(early.purchaseDeadline == nil)
    let status = try world.write {
      try $0.recordGrade(learnerId: "ada", courseId: World.courseId, grade: 0.9, examId: nil)
    }
    #expect(status.purchaseDeadline == own + 86_400)
    let e = creditError {
      _ = try world.write {
        try $0.extendPurchaseDeadline(learnerId: "ada", courseId: World.courseId, deadline: own)
      }
    }
    #expect(e?.kind == .invalidParams)
    #expect(e?.field == "deadline")
  }

  @Test func recordingAGradeForALearnerNotEnrolledIsNotFound() throws {
    let world = try World()
    try world.setUp()
    let e = creditError {
      _ = try world.write {
        try $0.recordGrade(learnerId: "ada", courseId: World.courseId, grade: 0.9, examId: nil)
      }
    }
    #expect(e?.kind == .notFound)
    #expect(e?.reason == "not_enrolled")
  }
}

@Suite struct RequirementSetServiceTests {
  @Test func replacingTheSetKeepsStatusesOfRequirementsThatStay() throws {
    let world = try World()
    try world.setUp(
      requirements: [
        .init(kind: .grade, minGrade: 0.7),
        .init(kind: .reverification, checkpointId: "cp1", displayName: "One"),
      ], enroll: .verified)
    _ = try world.write {
      try $0.recordGrade(learnerId: "ada", courseId: World.courseId, grade: 0.8, examId: nil)
    }
    let before = try #require(
      try world.requirements().requirements.first { $0.requirement.requirementId == "grade" })
    #expect(before.status == .satisfied)

    world.clock.now += 3600
    let set = try world.write {
      try $0.setCreditRequirements(
        courseId: World.courseId,
        [
          .init(kind: .reverification, checkpointId: "cp2", displayName: "Two"),
          .init(kind: .grade, minGrade: 0.7),
        ])
    }
    #expect(set.map(\.requirementId) == ["reverification:cp2", "grade"])
    #expect(set.map(\.order) == [1, 2])

    let after = try world.requirements()
    #expect(after.requirements.map(\.requirement.requirementId) == ["reverification:cp2", "grade"])
    #expect(after.requirements.map(\.status) == [.pending, .satisfied])
    let grade = after.requirements[1]
    #expect(grade.reason == before.reason)
    #expect(grade.updatedAt == before.updatedAt)
  }

  @Test func eligibilityChangeCausedByStaffReplacingTheSetIsRecordedWithStaffAsActor() throws {
    let world = try World()
    try world.setUp(requirements: [.init(kind: .grade, minGrade: 0.7)], enroll: .verified)
    _ = try world.write {
      try $0.recordGrade(learnerId: "ada", courseId: World.courseId, grade: 0.8, examId: nil)
    }
    #expect(try world.requirements().eligibility == .eligible)

    world.clock.now += 3600
    _ = try world.write(as: "staff") {
      try $0.setCreditRequirements(
        courseId: World.courseId,
        [
          .init(kind: .grade, minGrade: 0.7),
          .init(kind: .reverification, checkpointId: "cp", displayName: "Check"),
        ])
    }
    #expect(try world.requirements().eligibility == .notYetEligible)
    let change = try #require(try world.history().last { $0.kind == "eligibilityChanged" })
    #expect(change.from == "eligible")
    #expect(change.to == "notYetEligible")
    #expect(change.at == World.midCourse + 3600)
    // Time did not cause this change: staff did (SPEC 2, History: the acting principal; `system` only
    // for changes that time alone causes). setCreditRequirements re-evaluates through `settle`.
    #expect(change.actor == "staff")
  }

  @Test func eligibilityChangeCausedByStaffAfterTheEndCarriesTheMomentOfTheChange() throws {
    let world = try World()
    try world.setUp(requirements: [.init(kind: .grade, minGrade: 0.7)], enroll: .verified)
    _ = try world.write {
      try $0.recordGrade(learnerId: "ada", courseId: World.courseId, grade: 0.8, examId: nil)
    }
    world.clock.now = World.endsAt + 86_400
    _ = try world.write(as: "staff") {
      try $0.setCreditRequirements(
        courseId: World.courseId,
        [
          .init(kind: .grade, minGrade: 0.7),
          .init(kind: .reverification, checkpointId: "cp", displayName: "Check"),
        ])
    }
    #expect(try world.requirements().eligibility == .notYetEligible)
    let change = try #require(try world.history().last { $0.kind == "eligibilityChanged" })
    #expect(change.to == "notYetEligible")
    #expect(change.at == World.endsAt + 86_400)
    #expect(change.actor == "staff")
  }
}
