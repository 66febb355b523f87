import CreditCore
import JSON
import JSONRPC

/// What a method runs against.
public struct MethodContext {
  public let service: CreditService
  public let principal: Principal
  /// Present only under `--test-clock`.
  public let testClock: TestClock?
}

/// One method, defined once: its name, who may call it, its parameters and result (which drive
/// validation, dispatch and the OpenRPC document alike), and the code it runs.
public struct MethodDefinition: @unchecked Sendable {
  public let name: String
  public let summary: String
  public let access: Access
  /// Changes state: runs under the write lock.
  public let mutates: Bool
  public let params: ObjectSchema
  public let resultName: String
  public let result: Schema
  /// Exists only under `--test-clock`.
  public let testClockOnly: Bool
  /// Checks of the parameters that their schema cannot express (base64 images, one field against
  /// another, repeats in a list), run right after the schema and before any state is read: a
  /// malformed parameter is -32602 whatever the state (SPEC section 6, order of checks).
  var check: ((ParamReader, MethodContext) throws -> Void)?
  /// Called as a notification, it ends the session once the requests before it are committed.
  public let endsSession: Bool
  let run: (ParamReader, MethodContext) throws -> JSONValue

  init(
    _ name: String, _ summary: String, access: Access, mutates: Bool, params: [Field], resultName: String,
    result: Schema, testClockOnly: Bool = false, openParams: Bool = false, endsSession: Bool = false,
    run: @escaping (ParamReader, MethodContext) throws -> JSONValue
  ) {
    self.name = name
    self.summary = summary
    self.access = access
    self.mutates = mutates
    self.params = ObjectSchema(nil, params, open: openParams)
    self.resultName = resultName
    self.result = result
    self.testClockOnly = testClockOnly
    self.endsSession = endsSession
    self.run = run
  }

  /// A method whose result is one result object.
  static func method<R: RPCResult>(
    _ name: String, _ summary: String, access: Access, mutates: Bool, params: [Field], result: R.Type,
    run: @escaping (ParamReader, MethodContext) throws -> R
  ) -> MethodDefinition {
    MethodDefinition(
      name, summary, access: access, mutates: mutates, params: params, resultName: R.schema.name ?? name,
      result: R.schema, run: { p, c in try run(p, c).json })
  }

  /// A method whose result is `{key: [R]}` plus fixed members.
  static func list<R: RPCResult>(
    _ name: String, _ summary: String, access: Access, mutates: Bool = false, params: [Field], key: String,
    of: R.Type, extra: [Field] = [], run: @escaping (ParamReader, MethodContext) throws -> ([R], JSONObject)
  ) -> MethodDefinition {
    let schema = Schema.object(ObjectSchema(nil, extra + [Field(key, .array(R.schema))]))
    return MethodDefinition(
      name, summary, access: access, mutates: mutates, params: params, resultName: key, result: schema,
      run: { p, c in
        let (items, more) = try run(p, c)
        var o = more
        o.append(key, .array(items.map(\.json)))
        return .object(o)
      })
  }

  /// The same method with a check of its parameters (see `check`).
  func checking(_ check: @escaping (ParamReader, MethodContext) throws -> Void) -> MethodDefinition {
    var m = self
    m.check = check
    return m
  }
}
