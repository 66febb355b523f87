import CreditCore
import JSON
import JSONRPC

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
    let scope = service.scope
    let writes = requests.contains { table[$0.method]?.mutates ?? false }
    var outcomes: [Result<JSONValue, RPCError>] = []
    outcomes.reserveCapacity(requests.count)
    var aborted: RPCError?
    do {
      try scope.inGroup(writing: writes, lockKeys: writes ? lockKeys(requests) : []) { refused in
        // When another process holds the write lock past the timeout, the reads of the group are
        // still served and only its writes are refused.
        writesRefused = refused.map(rpcError)
        for request in requests {
          let outcome = runOne(request)
          outcomes.append(outcome)
          if request.isNotification, table[request.method]?.endsSession == true {
            sessionEnded = true
            break
          }
          if !scope.groupIsOpen {
            // The engine rolled the whole group back (a full disk, an I/O error): nothing of it is
            // stored, and the rest must not run outside the group, each committing on its own.
            var e = RPCError(
              code: CreditError.Kind.unavailable.rawValue,
              message: "The database could not store this group of requests (disk full or I/O error); "
                + "nothing of it was applied. Try again.", reason: "database_unavailable")
            if case .failure(let failure) = outcome, failure.code == CreditError.Kind.unavailable.rawValue {
              e = failure
            }
            aborted = e
            return .rollback
          }
        }
        return .commit
      }
    } catch {
      // The group could not begin or commit: nothing of it was stored, no request may claim success.
      let e = rpcError(error)
      return requests.map { _ in .failure(e) }
    }
    if let aborted { return requests.map { _ in .failure(aborted) } }
    return outcomes
  }

  /// What the writes of a group touch: the learner (in its course) of each request, the course of a
  /// course-wide change, and everything for a request that names its data by an id only.
  func lockKeys(_ requests: [Request]) -> [LockKey] {
    var keys = Set<LockKey>()
    for request in requests where table[request.method]?.mutates ?? false {
      let params = request.params ?? JSONObject()
      if let learnerId = params["learnerId"]?.stringValue {
        if let courseId = params["courseId"]?.stringValue {
          keys.insert(.enrollment(learnerId: learnerId, courseId: courseId))
        } else {
          keys.insert(.learner(learnerId))
        }
      } else if let courseId = params["courseId"]?.stringValue {
        keys.insert(.course(courseId))
      } else {
        keys.insert(.everything)
      }
    }
    return keys.sorted()
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
    } catch {
      return .failure(rpcError(error))
    }
    let run = { try method.run(ParamReader(params), context) }
    guard method.mutates else {
      do { return .success(try run()) } catch { return .failure(rpcError(error)) }
    }
    if let refused = writesRefused { return .failure(refused) }
    var outcome: Result<JSONValue, RPCError>?
    do {
      try service.scope.inSavepoint {
        do {
          outcome = .success(try run())
          return .commit
        } catch let refusal as RecordedRefusal {
          // The refusal's record is kept.
          outcome = .failure(rpcError(refusal.error))
          return .commit
        } catch {
          outcome = .failure(rpcError(error))
          return .rollback
        }
      }
    } catch {
      // The savepoint could not be opened or released: what the request did is undone.
      if case .failure(let e)? = outcome { return .failure(e) }
      return .failure(rpcError(error))
    }
    return outcome!
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
}
