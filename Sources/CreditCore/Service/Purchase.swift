import CreditCrypto

public enum PaymentMethod: String, Sendable, CaseIterable {
  case card, paypal
}

/// What a payment processor said.
public enum PaymentOutcome: Sendable, Equatable {
  case approved
  case declined(reason: String, message: String)
}

/// The seam where a real payment processor plugs in.
public protocol PaymentProcessor: AnyObject {
  func charge(method: PaymentMethod, token: String, amount: Money) -> PaymentOutcome
}

/// The built-in test processor of SPEC section 2.
public final class TestPaymentProcessor: PaymentProcessor {
  public init() {}
  public func charge(method: PaymentMethod, token: String, amount: Money) -> PaymentOutcome {
    switch (method, token) {
    case (.card, "tok_visa"), (.paypal, "paypal_approved"):
      return .approved
    case (.card, "tok_chargeDeclined"):
      return .declined(reason: "card_declined", message: "The card was declined by its issuer.")
    case (.paypal, "paypal_cancelled"):
      return .declined(reason: "paypal_cancelled", message: "The PayPal payment was cancelled.")
    default:
      return .declined(
        reason: "invalid_token",
        message: "'\(token)' is not a \(method.rawValue) token the payment processor knows.")
    }
  }
}

/// A signed parameter value: the provider gets integers as integers.
public enum SignedValue: Sendable, Equatable {
  case string(String)
  case int(Int64)

  public var text: String {
    switch self {
    case .string(let s): s
    case .int(let i): String(i)
    }
  }
}

/// "Complete Credit": where the learner POSTs the signed parameters.
public struct CompleteCredit: Sendable, Equatable {
  public var url: String
  public var method: String
  /// In signing order (keys ascending), `signature` last.
  public var parameters: [(String, SignedValue)]

  public init(url: String, method: String, parameters: [(String, SignedValue)]) {
    self.url = url
    self.method = method
    self.parameters = parameters
  }

  public static func == (a: CompleteCredit, b: CompleteCredit) -> Bool {
    a.url == b.url && a.method == b.method && a.parameters.map(\.0) == b.parameters.map(\.0)
      && a.parameters.map(\.1) == b.parameters.map(\.1)
  }
}

public struct Purchase: Sendable, Equatable {
  public var orderId: String
  public var amount: Money
  public var paymentMethod: PaymentMethod
  public var purchasedAt: Instant
  public var creditRequest: CreditRequest
  public var completeCredit: CompleteCredit?

  public init(
    orderId: String, amount: Money, paymentMethod: PaymentMethod, purchasedAt: Instant,
    creditRequest: CreditRequest,
    completeCredit: CompleteCredit?
  ) {
    self.orderId = orderId
    self.amount = amount
    self.paymentMethod = paymentMethod
    self.purchasedAt = purchasedAt
    self.creditRequest = creditRequest
    self.completeCredit = completeCredit
  }
}

extension CreditService {
  /// Signs parameters with a secret: HMAC-SHA256 (hex) over `key:value` of every parameter, keys ascending.
  public static func sign(_ parameters: [(String, SignedValue)], secret: String) -> String {
    let message = Rules.signingMessage(parameters.map { ($0.0, $0.1.text) })
    return Hex.encode(HMACSHA256.authenticate(key: Array(secret.utf8), message: Array(message.utf8)))
  }

  public func purchaseCredit(
    learnerId: String, courseId: String, providerId: String, method: PaymentMethod, token: String,
    idempotencyKey: String
  ) throws -> Purchase {
    let digest = Hex.encode(
      SHA256.hash(Array("\(courseId)\u{1F}\(providerId)\u{1F}\(method.rawValue)\u{1F}\(token)".utf8)))
    if let (orderId, storedDigest) = try store.order(learnerId: learnerId, idempotencyKey: idempotencyKey) {
      guard storedDigest == digest else {
        throw CreditError(
          .conflict,
          "idempotencyKey '\(idempotencyKey)' was already used for a different purchase; use a new key.",
          reason: "idempotency_key_reused", field: "idempotencyKey")
      }
      guard let stored = try store.purchase(orderId: orderId) else {
        throw CreditError(.internalError, "The order is missing.", reason: "internal_error")
      }
      return stored
    }
    let s = try settle(learnerId, courseId)
    guard let (provider, offer, secret) = try store.providerForPurchase(providerId, courseId: courseId) else {
      throw CreditError.notFound("provider", providerId, field: "providerId")
    }
    guard let offer else {
      throw CreditError(
        .notFound, "Provider '\(providerId)' does not offer credit for \(courseId).",
        reason: "offer_not_found",
        field: "providerId")
    }
    if let existing = s.request {
      throw CreditError(
        .conflict,
        "Credit for \(courseId) was already purchased (request \(existing.requestId) from \(existing.providerName)).",
        reason: "already_purchased")
    }
    guard s.creditTrack else {
      throw CreditError(
        .notEligible, "Only learners in the verified track can buy credit; enroll as verified first.",
        reason: "not_credit_track")
    }
    let status = s.synced!
    guard status.eligibility == .eligible, let deadline = status.purchaseDeadline else {
      let open = status.requirements.filter { $0.status != .satisfied }.map {
        "\($0.requirement.requirementId) is \($0.status.rawValue)"
      }
      throw CreditError(
        .notEligible,
        "The learner is not eligible for credit in \(courseId) (\(status.eligibility.rawValue)"
          + (open.isEmpty ? "" : ": " + open.joined(separator: ", ")) + ").",
        reason: "not_eligible")
    }
    guard now <= deadline else {
      throw CreditError(
        .deadlinePassed, "The purchase window for \(courseId) closed at \(RFC3339.format(deadline)).",
        reason: "purchase_window_closed")
    }
    switch paymentProcessor.charge(method: method, token: token, amount: offer.price) {
    case .approved:
      break
    case .declined(let reason, let message):
      try recordEvent(
        learnerId: learnerId, courseId: courseId, kind: "paymentDeclined",
        detail: "\(method.rawValue): \(reason)")
      throw RecordedRefusal(
        CreditError(
          .paymentDeclined, "\(message) Nothing was charged or recorded.", reason: reason,
          field: "payment.token"))
    }
    let seq = try store.nextSequence("order")
    let orderId = "ord_\(seq)"
    let requestId = opaqueId(seed: "credit-request|\(learnerId)|\(courseId)")
    var complete: CompleteCredit?
    if provider.requiresAdditionalSteps {
      guard let secret else {
        throw CreditError(.internalError, "The provider has no signing secret.", reason: "internal_error")
      }
      complete = completeCredit(s, provider: provider, secret: secret, requestId: requestId)
    }
    let purchase = Purchase(
      orderId: orderId, amount: offer.price, paymentMethod: method, purchasedAt: now,
      creditRequest: CreditRequest(
        requestId: requestId, learnerId: learnerId, courseId: courseId, providerId: providerId,
        providerName: provider.displayName, status: .pending, createdAt: now, decidedAt: nil,
        providerUrl: provider.url, providerStatusUrl: provider.statusUrl,
        providerDescription: provider.description),
      completeCredit: complete)
    try store.insertPurchase(purchase, idempotencyKey: idempotencyKey, digest: digest, seq: seq)
    try recordEvent(
      learnerId: learnerId, courseId: courseId, kind: "creditPurchased", to: "pending",
      detail:
        "\(orderId): \(offer.price.amount) \(offer.price.currency) by \(method.rawValue) from \(providerId), "
        + "request \(requestId)")
    try sendEmail(
      s.learner, courseId: courseId, kind: .purchaseReceipt,
      subject: "Receipt for your credit purchase in \(s.course.title)",
      body: """
        Thank you, \(s.learner.fullName). Order \(orderId): academic credit for \(s.course.title) (\(courseId)) \
        from \(provider.displayName), \(offer.price.amount) \(offer.price.currency), paid by \
        \(method == .card ? "card" : "PayPal"). Your credit request \(requestId) is pending with \
        \(provider.displayName)\(provider.requiresAdditionalSteps ? "; complete the provider's additional steps at \(provider.url)" : "").
        """)
    return purchase
  }

  /// The parameters and signature the learner takes to the provider (SPEC section 2).
  func completeCredit(_ s: Standing, provider: Provider, secret: String, requestId: String) -> CompleteCredit
  {
    let finalGrade: String
    if s.requirements.contains(where: { $0.kind == .grade }) {
      finalGrade = s.creditGrade.map(Rules.formatGrade) ?? ""
    } else {
      finalGrade = s.courseGrade.map(Rules.formatGrade) ?? ""
    }
    var parameters: [(String, SignedValue)] = [
      ("course_completion_timestamp", .int(s.eligibleAt ?? now)),
      ("course_num", .string(s.course.number)),
      ("course_org", .string(s.course.org)),
      ("course_run", .string(s.course.run)),
      ("enrollment_timestamp", .int(s.enrolledAt)),
      ("final_grade", .string(finalGrade)),
      ("request_uuid", .string(requestId)),
      ("timestamp", .int(now)),
      ("user_country", .string(s.learner.country)),
      ("user_email", .string(s.learner.email)),
      ("user_full_name", .string(s.learner.fullName)),
      ("user_mailing_address", .string(s.learner.mailingAddress ?? "")),
      ("user_username", .string(s.learner.learnerId)),
    ]
    parameters.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
    parameters.append(("signature", .string(Self.sign(parameters, secret: secret))))
    return CompleteCredit(url: provider.url, method: "POST", parameters: parameters)
  }

  // MARK: Decisions

  public func submitProviderDecision(
    providerId: String, requestId: String, approved: Bool, timestamp: Int64, signature: String
  ) throws -> CreditRequest {
    let provider = try provider(providerId)
    let status: CreditRequestStatus = approved ? .approved : .rejected
    let message = Rules.signingMessage([
      ("request_uuid", requestId), ("status", status.rawValue), ("timestamp", String(timestamp)),
    ])
    let given = Hex.decode(signature) ?? []
    var matched = false
    for secret in try store.providerSecrets(providerId) {
      let mac = HMACSHA256.authenticate(key: Array(secret.utf8), message: Array(message.utf8))
      // Every secret is tried, so that the time taken does not tell which one matched.
      if constantTimeEquals(mac, given) { matched = true }
    }
    guard matched else {
      throw CreditError(
        .invalidSignature,
        "The signature does not match: sign request_uuid, status and timestamp with one of the provider's secrets "
          + "(HMAC-SHA256, hex).", reason: "bad_signature", field: "signature")
    }
    guard Rules.decisionTimestampAccepted(timestamp, now: now) else {
      let stale = timestamp < now
      throw CreditError(
        .invalidSignature,
        stale
          ? "The timestamp is more than 15 minutes old; sign the decision again with the current time."
          : "The timestamp is more than 5 minutes in the future; check the provider's clock.",
        reason: stale ? "stale_timestamp" : "future_timestamp", field: "timestamp")
    }
    guard let request = try findCreditRequest(requestId), request.providerId == providerId else {
      throw CreditError(
        .notFound, "Provider '\(providerId)' has no credit request '\(requestId)'.",
        reason: "request_not_found",
        field: "requestId")
    }
    if request.status != .pending {
      if request.status == status { return request }
      throw CreditError.invalidState(
        "Credit request \(requestId) was already \(request.status.rawValue); a decision cannot be changed.",
        reason: "already_decided")
    }
    let s = try settle(request.learnerId, request.courseId)
    try store.decideCreditRequest(requestId, status: status, at: now)
    try recordEvent(
      learnerId: request.learnerId, courseId: request.courseId, kind: "creditDecision", from: "pending",
      to: status.rawValue, detail: "request \(requestId) by \(providerId)")
    let extra =
      approved
      ? "Congratulations! See \(provider.url) for what comes next."
      : "If you have questions, contact \(provider.displayName) at \(provider.url)"
        + (provider.description.map { " (\($0))" } ?? "") + "."
    try sendEmail(
      s.learner, courseId: request.courseId, kind: .creditDecision,
      subject: "\(provider.displayName) \(approved ? "approved" : "rejected") your credit request",
      body: """
        \(s.learner.fullName), \(provider.displayName) has \(status.rawValue) your request for academic credit in \
        \(s.course.title) (\(request.courseId)). \(extra)
        """)
    var decided = request
    decided.status = status
    decided.decidedAt = now
    return decided
  }

  public func getCreditRequest(requestId: String) throws -> CreditRequest {
    guard let r = try findCreditRequest(requestId) else {
      throw CreditError.notFound("credit request", requestId, field: "requestId", reason: "request_not_found")
    }
    return r
  }
}
