import CreditCore

/// The credit store over any `Connection`: the transaction scope here, the SQL of each aggregate
/// in its own file beside this one.
public final class SQLStore: TransactionScope {
  public let connection: any Connection
  /// Called whenever changes are undone (a savepoint or a whole group), so that nothing cached
  /// from them outlives them.
  var rollbackHandlers: [() -> Void] = []

  public init(_ connection: any Connection) {
    self.connection = connection
  }

  public func onRollback(_ handler: @escaping () -> Void) { rollbackHandlers.append(handler) }

  func rolledBack() {
    for h in rollbackHandlers { h() }
  }

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
    } catch {
      connection.rollback()
      rolledBack()
      throw error
    }
    switch completion {
    case .commit:
      do { try connection.commit() } catch {
        connection.rollback()
        rolledBack()
        throw error
      }
    case .rollback:
      connection.rollback()
      rolledBack()
    }
  }

  public func inSavepoint(_ body: () throws -> Completion) throws {
    try connection.savepoint("request")
    let completion: Completion
    do {
      completion = try body()
    } catch {
      connection.rollback(to: "request")
      rolledBack()
      throw error
    }
    switch completion {
    case .commit:
      do { try connection.release("request") } catch {
        connection.rollback(to: "request")
        rolledBack()
        throw error
      }
    case .rollback:
      connection.rollback(to: "request")
      rolledBack()
    }
  }

  public var groupIsOpen: Bool { connection.isInTransaction }
}
