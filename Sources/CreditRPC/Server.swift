import CreditCore
import JSON
import JSONRPC
import SQLite

/// The method table behind the transport: authorises, validates and runs each request, a group at
/// a time in one transaction with a savepoint per request, and answers only after the commit.
public final class Server: GroupHandler {
  public let service: CreditService
  public let principal: Principal
  let testClock: TestClock?
  let logger: Logger
  let table: [String: MethodDefinition]
  let methods: [MethodDefinition]
  /// Set for a group whose write lock could not be had: its writes are refused with this.
  private var writesRefused: RPCError?
  /// Set by a group that held an `exit` notification (the requests after it were not run).
  public private(set) var sessionEnded = false
  /// The OpenRPC document, built on first use (start-up does not pay for it).
  public lazy var document: JSONValue = OpenRPC.document(methods: methods)

  public init(service: CreditService, principal: Principal, testClock: TestClock?, logger: Logger) {
    self.service = service
    self.principal = principal
    self.testClock = testClock
    self.logger = logger
    let methods = Methods.all.filter { !$0.testClockOnly || testClock != nil }
    self.table = Dictionary(uniqueKeysWithValues: methods.map { ($0.name, $0) })
    self.methods = methods
    service.actor = principal.description
  }

  public func handle(_ requests: [Request]) -> [Result<JSONValue, RPCError>] {
    let db = service.db
    let writes = requests.contains { table[$0.method]?.mutates ?? false }
    // When another process holds the write lock past the timeout, the reads of the group are still
    // served (WAL readers never wait) and only its writes are refused.
    writesRefused = nil
    do {
      if writes {
        do { try db.beginImmediate() } catch {
          guard error.isBusy else { throw error }
          writesRefused = storeError(error)
          try db.beginDeferred()
        }
      } else {
        try db.beginDeferred()
      }
    } catch {
      let e = storeError(error)
      return requests.map { _ in .failure(e) }
    }
    var outcomes: [Result<JSONValue, RPCError>] = []
    outcomes.reserveCapacity(requests.count)
    for request in requests {
      let outcome = runOne(request)
      outcomes.append(outcome)
      if request.isNotification, table[request.method]?.endsSession == true {
        sessionEnded = true
        break
      }
      if !db.isInTransaction {
        // SQLite rolled the whole group back (a full disk, an I/O error): nothing of it is stored,
        // and the rest must not run outside the group, each committing on its own.
        service.forgetUncommitted()
        var e = RPCError(
          code: CreditError.Kind.unavailable.rawValue,
          message: "The database could not store this group of requests (disk full or I/O error); nothing "
            + "of it was applied. Try again.", reason: "database_unavailable")
        if case .failure(let failure) = outcome, failure.code == CreditError.Kind.unavailable.rawValue {
          e = failure
        }
        return requests.map { _ in .failure(e) }
      }
    }
    do {
      try db.commit()
    } catch {
      db.rollback()
      service.forgetUncommitted()
      let e = storeError(error)
      // Nothing of this group was stored: no request may claim success.
      return outcomes.map { _ in .failure(e) }
    }
    return outcomes
  }

  private func runOne(_ request: Request) -> Result<JSONValue, RPCError> {
    if request.method == "rpc.discover" {
      if request.positionalParams { return .failure(.paramsNotObject) }
      if let params = request.params, !params.isEmpty {
        return .failure(
          .invalidParams(
            "rpc.discover takes no parameters.", field: params.keys.first!,
            reason: "unknown_field"))
      }
      return .success(document)
    }
    guard let method = table[request.method] else { return .failure(.methodNotFound(request.method)) }
    if request.positionalParams { return .failure(.paramsNotObject) }
    let params = request.params ?? JSONObject()
    let context = MethodContext(service: service, principal: principal, testClock: testClock)
    do {
      try authorize(method, params)
      try method.params.validate(params)
      try method.check?(ParamReader(params), context)
    } catch let e as RPCError {
      return .failure(e)
    } catch let e as CreditError {
      return .failure(rpcError(e))
    } catch {
      return .failure(storeError(error))
    }
    if method.mutates, let refused = writesRefused { return .failure(refused) }
    let db = service.db
    do {
      if method.mutates { try db.savepoint("request") }
    } catch {
      return .failure(storeError(error))
    }
    do {
      let result = try method.run(ParamReader(params), context)
      if method.mutates { try db.release("request") }
      return .success(result)
    } catch {
      if method.mutates {
        if (error as? CreditError)?.keepsChanges == true {
          do { try db.release("request") } catch {
            db.rollback(to: "request")
            service.forgetUncommitted()
          }
        } else {
          db.rollback(to: "request")
          service.forgetUncommitted()
        }
      }
      switch error {
      case let e as CreditError: return .failure(rpcError(e))
      case let e as RPCError: return .failure(e)
      default:
        return .failure(storeError(error))
      }
    }
  }

  /// Checked before any other work: who may call what, and for whose data.
  func authorize(_ method: MethodDefinition, _ params: JSONObject) throws {
    let a = method.access
    if a.everyone { return }
    func forbidden(_ why: String) -> CreditError {
      CreditError(.forbidden, "\(principal) may not call \(method.name): \(why).", reason: "forbidden")
    }
    switch principal {
    case .admin:
      return
    case .staff:
      if a.staff { return }
      throw forbidden("it is for the learner or the provider themselves")
    case .learner(let id):
      if a.learnerSelf {
        if let given = params["learnerId"]?.stringValue, given != id {
          throw forbidden("a learner may act only on its own data")
        }
        return
      }
      if a.requestOwner {
        try checkRequestOwner(params) { $0.learnerId == id }
        return
      }
      throw forbidden("it is for staff")
    case .provider(let id):
      if a.providerSelf {
        if let given = params["providerId"]?.stringValue, given != id {
          throw forbidden("a provider may act only for itself")
        }
        return
      }
      if a.requestOwner {
        try checkRequestOwner(params) { $0.providerId == id }
        return
      }
      throw forbidden("it is not open to providers")
    }

    func checkRequestOwner(_ params: JSONObject, _ owns: (CreditRequest) -> Bool) throws {
      guard let requestId = params["requestId"]?.stringValue else { return }  // validation reports it
      if let request = try service.findCreditRequest(requestId), owns(request) { return }
      // Not found and not theirs look the same, so that ids cannot be probed.
      throw forbidden("the credit request is not theirs")
    }
  }

  func rpcError(_ e: CreditError) -> RPCError {
    RPCError(code: e.kind.rawValue, message: e.message, reason: e.reason, field: e.field)
  }

  /// A store failure in words for the client (never SQL); details go to the log.
  func storeError(_ error: Error) -> RPCError {
    if let e = error as? SQLiteError {
      if e.isBusy {
        return RPCError(
          code: CreditError.Kind.unavailable.rawValue,
          message: "The database is busy (another process holds the lock past the timeout); try again.",
          reason: "database_busy")
      }
      if e.isReadOnly {
        return RPCError(
          code: CreditError.Kind.unavailable.rawValue,
          message: "The database is read-only; nothing can be changed.",
          reason: "database_read_only")
      }
      if e.isFull {
        return RPCError(
          code: CreditError.Kind.unavailable.rawValue,
          message: "The disk or database is full; nothing was changed.",
          reason: "database_full")
      }
      if e.isIOError || e.isCorrupt {
        logger.error("storage failure: \(e)")
        return RPCError(
          code: CreditError.Kind.unavailable.rawValue, message: "The database could not be read or written.",
          reason: "database_unavailable")
      }
      logger.error("internal store error: \(e)")
    } else {
      logger.error("internal error: \(error)")
    }
    return .internalError()
  }
}
