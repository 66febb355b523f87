import CreditCore
import CreditStore
import SQLite
import Testing

/// The store over SQLite: the write queue, caches and rollbacks, and rows that cannot be read.
@Suite struct StoreTests {
  static let now: Instant = 1_772_323_200

  static func store() throws -> SQLStore { try StoreOpener.openStore(path: ":memory:", now: now) }

  static let ada = Learner(learnerId: "ada", fullName: "Ada", email: "ada@example.org", country: "GB")
  static let course = Course(
    courseId: "course-v1:O+N+R", org: "O", number: "N", run: "R", title: "T", startsAt: 0, endsAt: now + 1000,
    passingGrade: 0.5, verifiedPrice: nil, purchaseWindowDays: 365, earnCredit: false)

  static func event(_ kind: String) -> EventRecord {
    EventRecord(
      learnerId: "ada", courseId: nil, at: now, actor: "admin", kind: kind, requirementId: nil, from: nil,
      to: nil,
      detail: nil)
  }

  static func enrolled(_ store: SQLStore) throws {
    try store.inGroup(writing: true, lockKeys: [.learner("ada")]) { _ in
      try store.insertLearner(ada, createdAt: now)
      try store.insertCourse(course, createdAt: now)
      try store.insertEnrollment(
        EnrollmentRecord(learnerId: "ada", courseId: course.courseId, mode: .verified, enrolledAt: now))
      return .commit
    }
  }

  @Test func aQueuedEventIsSeenByTheNextReadOfTheSameGroup() throws {
    let store = try Self.store()
    try Self.enrolled(store)
    var seen: [String] = []
    try store.inGroup(writing: true, lockKeys: [.learner("ada")]) { _ in
      try store.appendEvent(Self.event("first"))
      try store.appendEvent(Self.event("second"))
      seen = try store.events(learnerId: "ada", courseId: Self.course.courseId).map(\.kind)
      return .commit
    }
    #expect(seen == ["first", "second"])
  }

  @Test func aRolledBackSavepointLeavesNoQueuedWriteAndNoCachedLearner() throws {
    let store = try Self.store()
    let bob = Learner(learnerId: "bob", fullName: "Bob", email: "bob@example.org", country: "GB")
    try store.inGroup(writing: true, lockKeys: [.learner("bob")]) { _ in
      try store.inSavepoint {
        try store.insertLearner(bob, createdAt: Self.now)
        #expect(try store.learner("bob") == bob)
        try store.appendEvent(Self.event("undone"))
        return .rollback
      }
      #expect(try store.learner("bob") == nil)
      return .commit
    }
    #expect(try store.learner("bob") == nil)
    #expect(try store.events(learnerId: "ada", courseId: Self.course.courseId).isEmpty)
  }

  @Test func anErrorInTheGroupRollsItAllBack() throws {
    struct Refused: Error {}
    let store = try Self.store()
    #expect(throws: Refused.self) {
      try store.inGroup(writing: true, lockKeys: [.everything]) { _ in
        try store.insertLearner(Self.ada, createdAt: Self.now)
        throw Refused()
      }
    }
    #expect(try store.learner("ada") == nil)
  }

  @Test func aStatusWrittenTwiceInOneRequestKeepsTheLast() throws {
    let store = try Self.store()
    try Self.enrolled(store)
    let r = Requirement(
      requirementId: "grade", kind: .grade, displayName: "Final grade", order: 1, minGrade: 0.5, examId: nil,
      checkpointId: nil)
    try store.inGroup(writing: true, lockKeys: [.learner("ada")]) { _ in
      try store.replaceRequirements(courseId: Self.course.courseId, with: [r])
      try store.storeStatus(
        learnerId: "ada", courseId: Self.course.courseId,
        RequirementState(requirement: r, status: .pending, reason: "a", updatedAt: 1), at: 1)
      try store.storeStatus(
        learnerId: "ada", courseId: Self.course.courseId,
        RequirementState(requirement: r, status: .satisfied, reason: nil, updatedAt: 2), at: 2)
      return .commit
    }
    let s = try #require(try store.standing(learnerId: "ada", courseId: Self.course.courseId, forWrite: true))
    #expect(s.statuses["grade"]?.status == .satisfied)
    #expect(s.statuses["grade"]?.updatedAt == 2)
    #expect(s.statuses["grade"]?.reason == nil)
  }

  @Test func aRowWithUnknownEnumTextIsACorruptRowNotADefault() throws {
    let store = try Self.store()
    try Self.enrolled(store)
    let db = (store.connection as! SQLiteConnection).database
    try db.execute(
      """
      PRAGMA ignore_check_constraints = ON;
      UPDATE enrollments SET eligibility = 'maybe';
      PRAGMA ignore_check_constraints = OFF;
      """)
    let error = #expect(throws: StoreError.self) {
      _ = try store.standing(learnerId: "ada", courseId: Self.course.courseId, forWrite: false)
    }
    #expect(error?.kind == .corrupt)
  }

  @Test func busyIsClassifiedAndTheGroupStillReads() throws {
    let dir = TemporaryDirectory()
    let path = dir.file("busy.sqlite")
    let holder = try StoreOpener.openStore(path: path, busyTimeoutMs: 50, now: Self.now)
    let other = try StoreOpener.openStore(path: path, busyTimeoutMs: 50, now: Self.now)
    try holder.connection.begin(writing: true, lockKeys: [])
    defer { holder.connection.rollback() }
    var refused: StoreError?
    var read: Learner? = Self.ada
    try other.inGroup(writing: true, lockKeys: [.learner("ada")]) { writesRefused in
      refused = writesRefused
      read = try other.learner("ada")
      return .commit
    }
    #expect(refused?.kind == .busy)
    #expect(read == nil)
  }
}
