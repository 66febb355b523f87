import CLibPQ

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// One connection to a PostgreSQL server through libpq. Not thread-safe: one connection per thread.
///
/// Statements are written with SQLite's portable `?` placeholders, rewritten to `$1..$n`, prepared
/// once per connection (PQprepare) and then run with PQexecPrepared. A lost connection is reported
/// as an `.unavailable` error; the next use reconnects with the same connection parameters (so a
/// multi-host string with `target_session_attrs=read-write` finds a promoted standby) and prepares
/// statements again. A COMMIT is never cancelled by this module, and a COMMIT the server reports as
/// "committed locally, but might not have been replicated" is an `.unavailable` error.
public final class Connection {
  /// The connection string as given, with any password replaced by `***`: safe for logs.
  public let redactedConnectionString: String
  private let keywords: [String]
  private let values: [String]
  private let secrets: [String]
  private var handle: OpaquePointer?
  private var prepared: [String: PreparedStatement] = [:]
  private var statementNumber = 0
  private var notices: [Notice] = []
  private var traceSink: ((String) -> Void)?

  /// The rows the last `run` affected.
  public private(set) var changes: Int = 0
  /// How many times the connection was re-established after a loss.
  public private(set) var reconnects: Int = 0

  /// Parameters added unless the connection string (or libpq's environment) sets them, so that a
  /// dead host is noticed within seconds: an idle connection after 2 + 3 × 1 s of unanswered
  /// keepalives, a connection with unacknowledged data after 5 s, a connection attempt after 5 s.
  public static let defaultParameters: [(keyword: String, value: String, environment: String?)] = [
    ("keepalives", "1", nil),
    ("keepalives_idle", "2", nil),
    ("keepalives_interval", "1", nil),
    ("keepalives_count", "3", nil),
    ("tcp_user_timeout", "5000", nil),
    ("connect_timeout", "5", "PGCONNECT_TIMEOUT"),
  ]

  /// Connects to `conninfo` (a `postgresql://` URI, multi-host ones included, or a key/value
  /// string). `parameters` override or add libpq keywords (e.g. `options`, `application_name`).
  public init(_ conninfo: String, parameters: [String: String] = [:]) throws(PostgreSQLError) {
    let (redacted, rawSecrets) = Redaction.redactWithSecrets(conninfo)
    redactedConnectionString = redacted
    var errmsg: UnsafeMutablePointer<CChar>?
    guard let options = PQconninfoParse(conninfo, &errmsg) else {
      let detail = errmsg.map { String(cString: $0) } ?? "out of memory"
      if let errmsg { PQfreemem(errmsg) }
      throw PostgreSQLError(
        kind: .other, sqlState: nil,
        message: "invalid connection string \(redacted): " + Redaction.scrub(detail, rawSecrets))
    }
    defer { PQconninfoFree(options) }
    var pairs: [(String, String)] = []
    var password: String?
    var i = 0
    while let keyword = options[i].keyword {
      if let value = options[i].val {
        let k = String(cString: keyword)
        let v = String(cString: value)
        if k == "password" { password = v }
        if parameters[k] == nil { pairs.append((k, v)) }
      }
      i += 1
    }
    for (k, v) in parameters.sorted(by: { $0.key < $1.key }) { pairs.append((k, v)) }
    for d in Self.defaultParameters where !pairs.contains(where: { $0.0 == d.keyword }) {
      if let variable = d.environment, getenv(variable) != nil { continue }
      pairs.append((d.keyword, d.value))
    }
    keywords = pairs.map(\.0)
    values = pairs.map(\.1)
    var secrets = rawSecrets
    if let password, !password.isEmpty { secrets.append(password) }
    if let p = parameters["password"], !p.isEmpty { secrets.append(p) }
    self.secrets = secrets.sorted { $0.count > $1.count }
    try connect()
  }

  deinit { close() }

  /// Closes the connection; a later use reconnects.
  public func close() {
    transactionOpen = false
    if let handle { PQfinish(handle) }
    handle = nil
    prepared.removeAll()
  }

  /// True while the connection is up as far as libpq knows (it learns of a loss on the next use).
  public var isConnected: Bool { handle.map { PQstatus($0) == CONNECTION_OK } ?? false }

  public var isInTransaction: Bool {
    guard let handle, PQstatus(handle) == CONNECTION_OK else { return false }
    let status = PQtransactionStatus(handle)
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
  }

  /// The value a libpq keyword is connected with (after the defaults), nil when unset; never the
  /// password.
  public func parameter(_ keyword: String) -> String? {
    guard keyword != "password", let i = keywords.lastIndex(of: keyword) else { return nil }
    return values[i]
  }

  /// The backend's process id (for `pg_terminate_backend` in tests), 0 when not connected.
  public var backendPID: Int32 { handle.map { PQbackendPID($0) } ?? 0 }

  /// The host and port of the server this connection reached (one of a multi-host list).
  public var server: String {
    guard let handle, let host = PQhost(handle), let port = PQport(handle) else { return "" }
    return "\(String(cString: host)):\(String(cString: port))"
  }

  private func connect() throws(PostgreSQLError) {
    close()
    let conn = withCStrings(keywords) { k in
      withCStrings(values) { v in PQconnectdbParams(k, v, 0) }
    }
    guard let conn else {
      throw PostgreSQLError(kind: .unavailable, sqlState: nil, message: "libpq: out of memory")
    }
    guard PQstatus(conn) == CONNECTION_OK else {
      let message = scrub(String(cString: PQerrorMessage(conn)))
      PQfinish(conn)
      // A refused password or a missing database is no outage; anything else (no server
      // answering, none writable) is.
      let kind: PostgreSQLError.Kind =
        message.contains("password authentication failed") || message.contains("does not exist")
        ? .other : .unavailable
      throw PostgreSQLError(
        kind: kind, sqlState: nil,
        message: "could not connect to \(redactedConnectionString): \(message.trimmed)")
    }
    handle = conn
    let context = Unmanaged.passUnretained(self).toOpaque()
    PQsetNoticeReceiver(
      conn,
      { context, result in
        guard let context, let result else { return }
        let connection = Unmanaged<Connection>.fromOpaque(context).takeUnretainedValue()
        connection.notices.append(Notice(result))
      }, context)
  }

  /// The live connection, reconnecting first when the last one was lost.
  /// The live connection, reconnecting first when the last one was lost, unless it was lost inside
  /// a transaction: then every statement fails until `rollback()`, so that the statements after
  /// the loss cannot run outside the transaction they belonged to (and a COMMIT cannot succeed).
  private func live() throws(PostgreSQLError) -> OpaquePointer {
    if let handle, PQstatus(handle) == CONNECTION_OK { return handle }
    if transactionOpen {
      throw PostgreSQLError(
        kind: .unavailable, sqlState: "08006",
        message: "the connection was lost inside a transaction: roll it back before the next statement")
    }
    if handle != nil { reconnects += 1 }
    try connect()
    return handle!
  }

  /// Whether a transaction was open when the last statement ended (kept when the connection is lost).
  private var transactionOpen = false

  private func noteTransactionState(_ conn: OpaquePointer) {
    guard PQstatus(conn) == CONNECTION_OK else { return }
    transactionOpen = PQtransactionStatus(conn) != PQTRANS_IDLE
  }

  private func scrub(_ text: String) -> String { Redaction.scrub(text, secrets) }

  // MARK: Statements

  private struct PreparedStatement {
    let name: String
    let parameterCount: Int
  }

  /// The statement prepared for `sql` on this connection (preparing it on first use).
  private func statement(_ sql: String, _ values: [Value], _ conn: OpaquePointer) throws(PostgreSQLError)
    -> PreparedStatement
  {
    if let cached = prepared[sql] { return cached }
    let (text, count) = rewritePlaceholders(sql)
    guard values.count == count else {
      throw PostgreSQLError(
        kind: .other, sqlState: nil, message: "\(values.count) values for \(count) parameters", sql: sql)
    }
    statementNumber += 1
    let name = "s\(statementNumber)"
    let types = values.map(\.typeOID)
    let result = PQprepare(conn, name, text, Int32(count), types.isEmpty ? nil : types)
    try check(result, sql: sql, conn)
    PQclear(result)
    let statement = PreparedStatement(name: name, parameterCount: count)
    prepared[sql] = statement
    return statement
  }

  /// The number of statements prepared on the current connection.
  public var preparedStatementCount: Int { prepared.count }

  /// Runs a prepared statement and returns its result; throws on any error.
  private func execute(_ sql: String, _ values: [Value], commit: Bool = false) throws(PostgreSQLError)
    -> Rows
  {
    let conn = try live()
    traceSink?(sql)
    let s = try statement(sql, values, conn)
    guard values.count == s.parameterCount else {
      throw PostgreSQLError(
        kind: .other, sqlState: nil, message: "\(values.count) values for \(s.parameterCount) parameters",
        sql: sql)
    }
    notices.removeAll(keepingCapacity: true)
    let result = try withParameters(values, sql: sql) { n, v, l, f in
      PQexecPrepared(conn, s.name, n, v, l, f, 0)
    }
    defer { noteTransactionState(conn) }
    try check(result, sql: sql, conn)
    let rows = Rows(result!)
    try checkNotices(sql: sql, commit: commit)
    return rows
  }

  /// Throws the error a result (or its absence) reports; clears the result when it is an error.
  private func check(_ result: OpaquePointer?, sql: String?, _ conn: OpaquePointer) throws(PostgreSQLError) {
    if let result {
      let status = PQresultStatus(result)
      if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY { return }
    }
    let error = self.error(result, sql: sql, conn)
    if let result { PQclear(result) }
    throw error
  }

  private func error(_ result: OpaquePointer?, sql: String?, _ conn: OpaquePointer) -> PostgreSQLError {
    let lost = PQstatus(conn) != CONNECTION_OK
    var state: String?
    var message = ""
    var constraint: String?
    if let result {
      state = field(result, PG_DIAG_SQLSTATE_)
      message = field(result, PG_DIAG_MESSAGE_PRIMARY_) ?? ""
      if let detail = field(result, PG_DIAG_MESSAGE_DETAIL_) { message += " (\(detail))" }
      constraint = field(result, PG_DIAG_CONSTRAINT_NAME_)
    }
    if message.isEmpty { message = String(cString: PQerrorMessage(conn)).trimmed }
    if lost && message.isEmpty { message = "connection lost" }
    return PostgreSQLError(
      kind: PostgreSQLError.classify(sqlState: state, connectionLost: lost), sqlState: state,
      message: scrub(message), constraint: constraint, sql: sql.map(scrub))
  }

  /// A WARNING that the transaction committed locally but the synchronous-replication wait was
  /// cancelled or cut short turns the success into an `.unavailable` error. During a COMMIT any
  /// warning of class 01 or 57P0 counts (the text may be translated); elsewhere its text does.
  private func checkNotices(sql: String, commit: Bool) throws(PostgreSQLError) {
    guard !notices.isEmpty else { return }
    for notice in notices where notice.severity == "WARNING" {
      let known = notice.isLocalOnlyCommit
      let suspicious = commit && (notice.sqlState == "01000" || (notice.sqlState?.hasPrefix("57P0") ?? false))
      if known || suspicious {
        throw PostgreSQLError(
          kind: .unavailable, sqlState: notice.sqlState,
          message: scrub("commit not acknowledged: \(notice.message) (\(notice.detail ?? ""))"),
          sql: scrub(sql))
      }
    }
  }

  /// Runs a statement with bindings, ignoring any rows; returns the number of rows affected.
  @discardableResult
  public func run(_ sql: String, _ values: [Value] = []) throws(PostgreSQLError) -> Int {
    let rows = try execute(sql, values)
    changes = rows.affected
    return changes
  }

  /// The rows of a query, each mapped by `row`.
  public func query<T>(
    _ sql: String, _ values: [Value] = [], _ row: (Row) throws(PostgreSQLError) -> T
  ) throws(PostgreSQLError) -> [T] {
    let rows = try execute(sql, values)
    var result: [T] = []
    result.reserveCapacity(Int(rows.count))
    for i in 0..<rows.count { result.append(try row(rows[i])) }
    return result
  }

  /// The first row of a query mapped by `row`, or nil when there is none.
  public func queryOne<T>(
    _ sql: String, _ values: [Value] = [], _ row: (Row) throws(PostgreSQLError) -> T
  ) throws(PostgreSQLError) -> T? {
    let rows = try execute(sql, values)
    guard rows.count > 0 else { return nil }
    return try row(rows[0])
  }

  /// The first column of the first row as an integer, or nil.
  public func scalarInt(_ sql: String, _ values: [Value] = []) throws(PostgreSQLError) -> Int64? {
    try queryOne(sql, values) { r throws(PostgreSQLError) in r.optionalInt64(0) } ?? nil
  }

  /// Runs one or more statements separated by semicolons with the simple query protocol (no
  /// parameters, not prepared): schema scripts, `SET`.
  public func execute(_ sql: String) throws(PostgreSQLError) {
    let conn = try live()
    traceSink?(sql)
    notices.removeAll(keepingCapacity: true)
    defer { noteTransactionState(conn) }
    guard PQsendQuery(conn, sql) == 1 else { throw error(nil, sql: sql, conn) }
    var firstError: PostgreSQLError?
    while let result = PQgetResult(conn) {
      let status = PQresultStatus(result)
      if firstError == nil && status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK
        && status != PGRES_EMPTY_QUERY
      {
        firstError = error(result, sql: sql, conn)
      }
      PQclear(result)
    }
    if firstError == nil && PQstatus(conn) != CONNECTION_OK { firstError = error(nil, sql: sql, conn) }
    if let firstError { throw firstError }
    try checkNotices(sql: sql, commit: false)
  }

  // MARK: Pipeline mode

  /// Runs statements that do not depend on one another's results in one round trip (libpq's
  /// pipeline mode): all are sent, then one sync. Returns the rows each affected. The first
  /// failure is thrown and the statements after it are not run; outside a transaction the batch
  /// is one implicit transaction (all or nothing), inside one it aborts the transaction as any
  /// failed statement does. Keep batches small (hundreds): results are read after all is sent.
  @discardableResult
  public func runPipelined(_ statements: [(sql: String, values: [Value])]) throws(PostgreSQLError) -> [Int] {
    if statements.isEmpty { return [] }
    let conn = try live()
    var named: [PreparedStatement] = []
    for (sql, values) in statements {
      traceSink?(sql)
      let s = try statement(sql, values, conn)
      guard values.count == s.parameterCount else {
        throw PostgreSQLError(
          kind: .other, sqlState: nil,
          message: "\(values.count) values for \(s.parameterCount) parameters", sql: sql)
      }
      named.append(s)
    }
    notices.removeAll(keepingCapacity: true)
    defer { noteTransactionState(conn) }
    guard PQenterPipelineMode(conn) == 1 else { throw error(nil, sql: nil, conn) }
    var sendError: PostgreSQLError?
    for (k, (sql, values)) in statements.enumerated() {
      let sent = try withParameters(values, sql: sql) { n, v, l, f in
        PQsendQueryPrepared(conn, named[k].name, n, v, l, f, 0)
      }
      if sent != 1 {
        sendError = error(nil, sql: sql, conn)
        break
      }
    }
    if sendError == nil && PQpipelineSync(conn) != 1 { sendError = error(nil, sql: nil, conn) }
    if let sendError {
      if PQstatus(conn) == CONNECTION_OK {
        while PQgetResult(conn).map({ PQclear($0) }) != nil {}
        PQexitPipelineMode(conn)
      }
      throw sendError
    }
    var affected: [Int] = []
    var firstError: PostgreSQLError?
    for (sql, _) in statements {
      var got = false
      while let result = PQgetResult(conn) {
        defer { PQclear(result) }
        if got { continue }
        got = true
        let status = PQresultStatus(result)
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK {
          affected.append(Int(String(cString: PQcmdTuples(result))) ?? 0)
        } else if status != PGRES_PIPELINE_ABORTED, firstError == nil {
          firstError = error(result, sql: sql, conn)
        }
      }
      if !got && firstError == nil {
        firstError = error(nil, sql: sql, conn)
      }
      if PQstatus(conn) != CONNECTION_OK { break }
    }
    if PQstatus(conn) == CONNECTION_OK {
      // The sync's own result, then leave pipeline mode.
      var bounded = 0
      while bounded < 1000, let result = PQgetResult(conn) {
        let status = PQresultStatus(result)
        PQclear(result)
        bounded += 1
        if status == PGRES_PIPELINE_SYNC { break }
      }
      PQexitPipelineMode(conn)
    } else if firstError == nil {
      firstError = error(nil, sql: nil, conn)
    }
    if let firstError { throw firstError }
    try checkNotices(sql: "pipeline", commit: !isInTransaction)
    return affected
  }

  // MARK: Transactions

  public enum Isolation: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
  }

  /// `BEGIN` (read committed unless told otherwise; `readOnly` with `.repeatableRead` reads one
  /// snapshot).
  public func begin(_ isolation: Isolation = .readCommitted, readOnly: Bool = false) throws(PostgreSQLError) {
    if isolation == .readCommitted && !readOnly {
      try run("BEGIN")
    } else {
      try run("BEGIN ISOLATION LEVEL \(isolation.rawValue)\(readOnly ? " READ ONLY" : "")")
    }
  }

  /// `COMMIT`. Throws `.unavailable` when the connection is lost before the answer (the outcome is
  /// unknown) or the server warns that the commit is local only; throws `.other` when the server
  /// answers ROLLBACK (the transaction had failed).
  public func commit() throws(PostgreSQLError) {
    if !transactionOpen {
      throw PostgreSQLError(
        kind: .other, sqlState: "25P01", message: "COMMIT with no transaction open", sql: "COMMIT")
    }
    let rows = try execute("COMMIT", [], commit: true)
    if String(cString: PQcmdStatus(rows.handle)) == "ROLLBACK" {
      throw PostgreSQLError(
        kind: .other, sqlState: "25P02", message: "the transaction had failed: COMMIT rolled it back",
        sql: "COMMIT")
    }
  }

  /// Rolls back if a transaction is open; a lost connection is left for the next use to report.
  public func rollback() {
    transactionOpen = false
    guard let handle, PQstatus(handle) == CONNECTION_OK, isInTransaction else { return }
    if let result = PQexec(handle, "ROLLBACK") { PQclear(result) }
  }

  // Savepoints are prepared once like any other statement. In PostgreSQL a failed statement
  // aborts the whole transaction until `rollback(to:)`.
  public func savepoint(_ name: String) throws(PostgreSQLError) { try run("SAVEPOINT \(name)") }
  public func release(_ name: String) throws(PostgreSQLError) { try run("RELEASE SAVEPOINT \(name)") }

  /// Undoes everything since the savepoint and removes it (one round trip); the transaction is
  /// usable again afterwards. A failure is left for the next statement to report.
  public func rollback(to name: String) {
    guard let handle, PQstatus(handle) == CONNECTION_OK, isInTransaction else { return }
    if let result = PQexec(handle, "ROLLBACK TO SAVEPOINT \(name); RELEASE SAVEPOINT \(name)") {
      PQclear(result)
    }
  }

  /// Runs `body` in a transaction, committing on success and rolling back on error.
  @discardableResult
  public func transaction<T, E: Error>(_ isolation: Isolation = .readCommitted, _ body: () throws(E) -> T)
    throws -> T
  {
    try begin(isolation)
    do {
      let result = try body()
      try commit()
      return result
    } catch {
      rollback()
      throw error
    }
  }

  // MARK: Advisory locks

  /// The 64-bit advisory-lock key of a string: FNV-1a of its UTF-8 bytes (stable across
  /// processes, hosts and versions).
  public static func advisoryKey(_ key: String) -> Int64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in key.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x0000_0100_0000_01b3
    }
    return Int64(bitPattern: hash)
  }

  /// Takes transaction-scoped advisory locks on `keys` (released at COMMIT or ROLLBACK), in the
  /// sorted order of their hashes, in one statement: two transactions locking overlapping sets
  /// cannot deadlock. Blocks while another transaction holds one (up to `lock_timeout`: `.busy`).
  public func lock(_ keys: [String]) throws(PostgreSQLError) {
    let hashes = Set(keys.map(Self.advisoryKey)).sorted()
    guard !hashes.isEmpty else { return }
    let array = "{" + hashes.map(String.init).joined(separator: ",") + "}"
    try run(
      "SELECT pg_advisory_xact_lock(k) FROM (SELECT k FROM unnest(CAST(? AS bigint[])) AS u(k) ORDER BY k) AS s",
      [.text(array)])
  }

  // MARK: Tracing

  /// Calls `sink` with the text of every statement run, as written (with `?`): no bound value.
  public func trace(_ sink: ((String) -> Void)?) { traceSink = sink }
}

extension Connection: CustomStringConvertible {
  public var description: String { "PostgreSQL connection to \(redactedConnectionString)" }
}

/// A notice or warning the server sent while a statement ran.
struct Notice {
  let severity: String
  let sqlState: String?
  let message: String
  let detail: String?

  init(_ result: OpaquePointer) {
    severity = field(result, PG_DIAG_SEVERITY_NONLOCALIZED_) ?? field(result, PG_DIAG_SEVERITY_) ?? ""
    sqlState = field(result, PG_DIAG_SQLSTATE_)
    message = field(result, PG_DIAG_MESSAGE_PRIMARY_) ?? ""
    detail = field(result, PG_DIAG_MESSAGE_DETAIL_)
  }

  /// PostgreSQL's "canceling (the) wait for synchronous replication" warning, whose detail says
  /// "The transaction has already committed locally, but might not have been replicated".
  var isLocalOnlyCommit: Bool {
    message.contains("wait for synchronous replication") || (detail ?? "").contains("committed locally")
  }
}

// The PG_DIAG_* field codes (character macros Swift does not import).
let PG_DIAG_SEVERITY_ = Int32(UInt8(ascii: "S"))
let PG_DIAG_SEVERITY_NONLOCALIZED_ = Int32(UInt8(ascii: "V"))
let PG_DIAG_SQLSTATE_ = Int32(UInt8(ascii: "C"))
let PG_DIAG_MESSAGE_PRIMARY_ = Int32(UInt8(ascii: "M"))
let PG_DIAG_MESSAGE_DETAIL_ = Int32(UInt8(ascii: "D"))
let PG_DIAG_CONSTRAINT_NAME_ = Int32(UInt8(ascii: "n"))

func field(_ result: OpaquePointer, _ code: Int32) -> String? {
  PQresultErrorField(result, code).map { String(cString: $0) }
}

extension String {
  var trimmed: String {
    var s = Substring(self)
    while let last = s.last, last.isWhitespace { s = s.dropLast() }
    while let first = s.first, first.isWhitespace { s = s.dropFirst() }
    return String(s)
  }
}

/// Calls `body` with a NULL-terminated array of C strings.
func withCStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
  let copies = strings.map { strdup($0) }
  defer { copies.forEach { free($0) } }
  var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
  pointers.append(nil)
  return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Calls `body` with libpq's parameter arrays for `values`: text format (NUL-terminated) for
/// numbers and text, binary for BYTEA. Text holding U+0000 is refused (libpq would cut it there and
/// PostgreSQL cannot store it).
func withParameters<T>(
  _ values: [Value], sql: String,
  _ body: (
    Int32, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?
  ) -> T
) throws(PostgreSQLError) -> T {
  if values.isEmpty { return body(0, nil, nil, nil) }
  var storage: [UInt8] = []
  var offsets: [Int] = []
  var lengths: [Int32] = []
  var formats: [Int32] = []
  for value in values {
    switch value {
    case .null:
      offsets.append(-1)
      lengths.append(0)
      formats.append(0)
      continue
    case .int(let v):
      offsets.append(storage.count)
      storage.append(contentsOf: String(v).utf8)
      formats.append(0)
    case .double(let v):
      offsets.append(storage.count)
      storage.append(contentsOf: doubleText(v).utf8)
      formats.append(0)
    case .text(let v):
      if v.utf8.contains(0) {
        throw PostgreSQLError(
          kind: .other, sqlState: "22021", message: "a text parameter contains U+0000", sql: sql)
      }
      offsets.append(storage.count)
      storage.append(contentsOf: v.utf8)
      formats.append(0)
    case .blob(let v):
      offsets.append(storage.count)
      storage.append(contentsOf: v)
      formats.append(1)
    }
    lengths.append(Int32(storage.count - offsets.last!))
    storage.append(0)
  }
  return storage.withUnsafeBufferPointer { base in
    let pointers: [UnsafePointer<CChar>?] = offsets.map { offset in
      offset < 0 ? nil : UnsafeRawPointer(base.baseAddress! + offset).assumingMemoryBound(to: CChar.self)
    }
    return pointers.withUnsafeBufferPointer { p in
      lengths.withUnsafeBufferPointer { l in
        formats.withUnsafeBufferPointer { f in
          body(Int32(values.count), p.baseAddress, l.baseAddress, f.baseAddress)
        }
      }
    }
  }
}
