import CreditCore

// Orders and credit requests.
extension SQLStore {
  public func order(learnerId: String, idempotencyKey: String) throws -> (orderId: String, digest: String)? {
    try flush()
    return try connection.one(
      "SELECT order_id, params_digest FROM orders WHERE learner_id = ? AND idempotency_key = ?",
      [.text(learnerId), .text(idempotencyKey)]
    ) { ($0.text(0), $0.text(1)) }
  }

  public func purchase(orderId: String) throws -> Purchase? {
    try flush()
    return try connection.one(
      SQLText.purchaseByOrder, [.text(orderId)]
    ) { s in
      // As it was when the purchase was answered.
      var request = try Rows.request(Shifted(s, by: 5))
      request.status = .pending
      request.decidedAt = nil
      return Purchase(
        orderId: orderId, amount: Money(cents: s.int64(0), currency: s.text(1)),
        paymentMethod: try s.value(2),
        purchasedAt: s.int64(3), creditRequest: request,
        completeCredit: try s.optionalText(4).map {
          CompleteCredit(url: request.providerUrl, method: "POST", parameters: try Self.decodeParameters($0))
        })
    }
  }

  public func insertPurchase(_ p: Purchase, idempotencyKey: String, digest: String, seq: Int64) throws {
    try flush()
    let r = p.creditRequest
    try connection.run(
      """
      INSERT INTO orders (order_id, learner_id, course_id, provider_id, amount_cents, currency, payment_method,
        purchased_at, idempotency_key, params_digest, complete_parameters, seq)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [
        .text(p.orderId), .text(r.learnerId), .text(r.courseId), .text(r.providerId), .int(p.amount.cents),
        .text(p.amount.currency), .text(p.paymentMethod.rawValue), .int(p.purchasedAt), .text(idempotencyKey),
        .text(digest), .optional(p.completeCredit.map(Self.encodeParameters)), .int(seq),
      ])
    try connection.run(
      """
      INSERT INTO credit_requests (request_id, learner_id, course_id, provider_id, order_id, status, created_at, seq)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [
        .text(r.requestId), .text(r.learnerId), .text(r.courseId), .text(r.providerId), .text(p.orderId),
        .text(r.status.rawValue), .int(r.createdAt), .int(seq),
      ])
  }

  public func creditRequest(_ requestId: String) throws -> CreditRequest? {
    try flush()
    return try connection.one(
      SQLText.requestById, [.text(requestId)], Rows.request)
  }

  public func decideCreditRequest(_ requestId: String, status: CreditRequestStatus, at: Instant) throws {
    try flush()
    try connection.run(
      "UPDATE credit_requests SET status = ?, decided_at = ? WHERE request_id = ?",
      [.text(status.rawValue), .int(at), .text(requestId)])
  }

  /// One `key \t kind \t value` line per parameter; tabs, newlines and backslashes in values are
  /// escaped.
  static func encodeParameters(_ c: CompleteCredit) -> String {
    c.parameters.map { k, v in
      switch v {
      case .int(let i): "\(k)\ti\t\(i)"
      case .string(let s): "\(k)\ts\t\(escape(s))"
      }
    }.joined(separator: "\n")
  }

  static func decodeParameters(_ text: String) throws -> [(String, SignedValue)] {
    try text.split(separator: "\n", omittingEmptySubsequences: true).map { line in
      let parts = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
      guard parts.count == 3 else { throw StoreError(.corrupt, "unreadable complete_parameters line") }
      if parts[1] == "i" {
        guard let i = Int64(parts[2]) else {
          throw StoreError(.corrupt, "unreadable complete_parameters integer")
        }
        return (String(parts[0]), .int(i))
      }
      return (String(parts[0]), .string(unescape(String(parts[2]))))
    }
  }

  private static func escape(_ s: String) -> String {
    var out = ""
    for ch in s.unicodeScalars {
      switch ch {
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      default: out.unicodeScalars.append(ch)
      }
    }
    return out
  }

  private static func unescape(_ s: String) -> String {
    var out = ""
    var escaping = false
    for ch in s.unicodeScalars {
      if escaping {
        switch ch {
        case "n": out += "\n"
        case "t": out += "\t"
        case "r": out += "\r"
        default: out.unicodeScalars.append(ch)
        }
        escaping = false
      } else if ch == "\\" {
        escaping = true
      } else {
        out.unicodeScalars.append(ch)
      }
    }
    return out
  }
}

/// A row read from a later column on, so that a column list's reader can sit behind other columns.
struct Shifted: Row {
  let row: any Row
  let offset: Int32

  init(_ row: any Row, by offset: Int32) {
    self.row = row
    self.offset = offset
  }

  func isNull(_ i: Int32) -> Bool { row.isNull(i + offset) }
  func int64(_ i: Int32) -> Int64 { row.int64(i + offset) }
  func double(_ i: Int32) -> Double { row.double(i + offset) }
  func text(_ i: Int32) -> String { row.text(i + offset) }
}

/// Statements built once (an interpolated literal would be built again on every call).
extension SQLText {
  static let purchaseByOrder = """
    SELECT o.amount_cents, o.currency, o.payment_method, o.purchased_at, o.complete_parameters, \(Rows.request)
      JOIN orders o ON o.learner_id = r.learner_id AND o.course_id = r.course_id AND o.order_id = r.order_id
    WHERE o.order_id = ?
    """
  static let requestById = "SELECT \(Rows.request) WHERE r.request_id = ?"
}
