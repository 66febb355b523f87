/// A store failure, classified so that callers can answer without knowing the engine. The message
/// is for logs only (it may name SQL): it must never reach a client.
public struct StoreError: Error, CustomStringConvertible, Sendable {
  public enum Kind: Sendable, Equatable {
    /// Another writer held the lock past the timeout.
    case busy
    /// The store could not be reached, read or written (I/O error, connection lost).
    case unavailable
    case readOnly
    /// The disk or the database is full.
    case full
    /// A constraint refused the change (a bug in the service when it happens).
    case constraint
    /// The file or a row cannot be read as what it should be (an unknown enum text, say).
    case corrupt
    /// Anything else: a misuse of the engine (an SQL error) is a bug.
    case other
  }

  public var kind: Kind
  public var message: String

  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  public var description: String { "store error (\(kind)): \(message)" }
}

/// What a group of writes touches, so that an engine with row-level concurrency can lock it up
/// front (sorted, so that two groups never wait on each other in a cycle). An engine with one
/// write lock for the whole file ignores the keys.
public enum LockKey: Hashable, Comparable, Sendable {
  /// One learner's data that belongs to no course (identity verifications, the learner row).
  case learner(String)
  /// One learner's data in one course (the enrollment, its statuses, attempts, orders): conflicts
  /// with the same learner, and with a course-wide change of that course.
  case enrollment(learnerId: String, courseId: String)
  /// A change that reaches every learner of a course (its requirements, its catalog entries).
  case course(String)
  /// A write whose learner is only known once it has been read (an id-addressed review or
  /// decision): the whole store.
  case everything
}

/// How a transaction or savepoint ends: a value that the body returns, not an error flag.
public enum Completion: Sendable, Equatable {
  case commit
  case rollback
}

/// Transactions as the server sees them: one group of requests is one transaction, one request
/// is one savepoint inside it, and nothing is answered before the group's commit.
public protocol TransactionScope: AnyObject {
  /// Runs `body` in one transaction. With `writing`, the write locks for `lockKeys` are taken at
  /// the start; when they cannot be had in time, the group still runs with reads only and `body`
  /// gets the error that its writes are to be refused with. An error thrown by `body`, or by the
  /// commit, rolls the transaction back and is rethrown.
  func inGroup(
    writing: Bool, lockKeys: [LockKey], _ body: (_ writesRefused: StoreError?) throws -> Completion
  ) throws

  /// Runs `body` in a savepoint of the open group: released on `.commit`, undone on `.rollback`
  /// or an error (rethrown).
  func inSavepoint(_ body: () throws -> Completion) throws

  /// False once the engine itself has rolled the open group back (a full disk, an I/O error):
  /// nothing of it is stored, and nothing more may run in it.
  var groupIsOpen: Bool { get }
}
