import CreditCore

/// The credit store over any `Connection`: the transaction scope and the write queue here, the SQL
/// of each aggregate in its own file beside this one.
///
/// History events, emails, requirement statuses and enrollment rows are queued and written at
/// the next read, savepoint release or commit, each kind as one statement: a write that changes
/// three statuses and records four events costs two statements, not seven. Every other write, and
/// every read, first writes the queue, so that the order of effects is the order of the calls.
public final class SQLStore: Store {
  public let connection: any Connection

  /// Learners, exams and a course's facts never change once stored (storing one again with other data is refused),
  /// so rows read are kept, even with other processes writing the same file. Only a rollback could
  /// leave one here that is not stored: both are dropped on every rollback.
  var learners: [String: Learner] = [:]
  var exams: [String: Exam] = [:]
  /// Courses without their `earnCredit` flag (which changes): what a standing needs.
  var courseFacts: [String: Course] = [:]
  let cacheLimit = 50_000

  var queuedEvents: [EventRecord] = []
  var queuedNotifications: [NotificationRecord] = []
  var queuedStatuses: [StatusKey: QueuedStatus] = [:]
  var queuedStatusOrder: [StatusKey] = []
  var queuedEnrollments: [EnrollmentKey: EnrollmentRecord] = [:]
  var queuedEnrollmentOrder: [EnrollmentKey] = []
  var hasQueued = false
  /// Multi-row statements by row count, built once.
  var multiRowSQL: [String: [Int: String]] = [:]

  public init(_ connection: any Connection) {
    self.connection = connection
  }

  // MARK: Transactions

  public func inGroup(
    writing: Bool, lockKeys: [LockKey], _ body: (_ writesRefused: StoreError?) throws -> Completion
  ) throws {
    var refused: StoreError?
    if writing {
      do { try connection.begin(writing: true, lockKeys: lockKeys.sorted()) } catch let e as StoreError
        where e.kind == .busy
      {
        // Reads are still served (WAL readers never wait); only the writes are refused.
        refused = e
        try connection.begin(writing: false, lockKeys: [])
      }
    } else {
      try connection.begin(writing: false, lockKeys: [])
    }
    let completion: Completion
    do {
      completion = try body(refused)
      if completion == .commit {
        try flush()
        try connection.commit()
      }
    } catch {
      rollBack()
      throw error
    }
    if completion == .rollback { rollBack() }
  }

  public func inSavepoint(_ body: () throws -> Completion) throws {
    try flush()
    try connection.savepoint("request")
    do {
      let completion = try body()
      switch completion {
      case .commit:
        try flush()
        try connection.release("request")
      case .rollback:
        rollBack(to: "request")
      }
    } catch {
      rollBack(to: "request")
      throw error
    }
  }

  public var groupIsOpen: Bool { connection.isInTransaction }

  private func rollBack(to savepoint: String? = nil) {
    dropQueue()
    if let savepoint { connection.rollback(to: savepoint) } else { connection.rollback() }
    learners.removeAll(keepingCapacity: true)
    exams.removeAll(keepingCapacity: true)
    courseFacts.removeAll(keepingCapacity: true)
  }

  // MARK: The write queue

  struct StatusKey: Hashable {
    var learnerId: String
    var courseId: String
    var requirementId: String
  }

  struct QueuedStatus {
    var status: RequirementStatus
    var reason: String?
    var at: Instant
  }

  struct EnrollmentKey: Hashable {
    var learnerId: String
    var courseId: String
  }

  func queue(_ e: EventRecord) {
    queuedEvents.append(e)
    hasQueued = true
  }

  func queue(_ n: NotificationRecord) {
    queuedNotifications.append(n)
    hasQueued = true
  }

  func queueStatus(_ key: StatusKey, _ s: QueuedStatus) {
    if queuedStatuses.updateValue(s, forKey: key) == nil { queuedStatusOrder.append(key) }
    hasQueued = true
  }

  func queueEnrollment(_ e: EnrollmentRecord) {
    let key = EnrollmentKey(learnerId: e.learnerId, courseId: e.courseId)
    if queuedEnrollments.updateValue(e, forKey: key) == nil { queuedEnrollmentOrder.append(key) }
    hasQueued = true
  }

  private func dropQueue() {
    guard hasQueued else { return }
    queuedEvents.removeAll(keepingCapacity: true)
    queuedNotifications.removeAll(keepingCapacity: true)
    queuedStatuses.removeAll(keepingCapacity: true)
    queuedStatusOrder.removeAll(keepingCapacity: true)
    queuedEnrollments.removeAll(keepingCapacity: true)
    queuedEnrollmentOrder.removeAll(keepingCapacity: true)
    hasQueued = false
  }

  /// Writes what is queued. Enrollments first: statuses refer to them.
  func flush() throws {
    guard hasQueued else { return }
    for key in queuedEnrollmentOrder { try writeEnrollment(queuedEnrollments[key]!) }
    if !queuedStatusOrder.isEmpty {
      try writeStatuses(queuedStatusOrder.map { ($0, queuedStatuses[$0]!) })
    }
    if !queuedEvents.isEmpty { try writeEvents(queuedEvents) }
    if !queuedNotifications.isEmpty { try writeNotifications(queuedNotifications) }
    dropQueue()
  }

  /// `INSERT ... VALUES (?, ...), (?, ...) <suffix>` for `rows` rows of `columns` values.
  func multiRow(_ name: String, _ head: String, columns: Int, rows: Int, suffix: String = "") -> String {
    if let sql = multiRowSQL[name]?[rows] { return sql }
    let one = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
    let sql = head + " VALUES " + Array(repeating: one, count: rows).joined(separator: ", ") + suffix
    multiRowSQL[name, default: [:]][rows] = sql
    return sql
  }
}
