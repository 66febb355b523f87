import CreditCrypto
import SQLite

/// An opaque page cursor: a tag naming the list it belongs to, and the position after which the next
/// page starts. Written as `<tag>_<hex>` so that clients treat it as a token, not a number to edit.
public struct Cursor: Sendable, Equatable {
  public enum List: String, Sendable {
    case creditRequests = "cr"
    case enrollments = "en"
    case outbox = "ob"
    case events = "ev"
  }

  public var list: List
  public var position: String

  public init(_ list: List, _ position: String) {
    self.list = list
    self.position = position
  }

  public var token: String { "\(list.rawValue)_\(Hex.encode(Array(position.utf8)))" }

  /// The cursor in `token`, when it is one this service gave out for `list`; nil otherwise.
  public static func parse(_ token: String, for list: List) -> Cursor? {
    let prefix = list.rawValue + "_"
    guard token.hasPrefix(prefix), token.utf8.count <= 2 * 600 + prefix.utf8.count,
      let bytes = Hex.decode(String(token.dropFirst(prefix.count))), !bytes.isEmpty,
      let position = String(validating: bytes, as: UTF8.self)
    else { return nil }
    return Cursor(list, position)
  }

  /// The cursor's position as a positive integer id, for lists keyed by one.
  var id: Int64? { Int64(position).flatMap { $0 >= 0 ? $0 : nil } }

  /// Reads the `after` parameter of a list method; a token that is not the service's own is -32602.
  public static func after(_ token: String?, for list: List, numeric: Bool) throws -> Cursor? {
    guard let token else { return nil }
    guard let c = parse(token, for: list), !numeric || c.id != nil else {
      throw CreditError.invalidParams(
        "'after' is not a cursor of this list: pass the 'next' value of the previous page unchanged, "
          + "or omit it to start from the beginning.", field: "after", reason: "invalid_cursor")
    }
    return c
  }
}

/// One page of a list and the cursor of the next (nil on the last page).
public struct Page<Item: Sendable>: Sendable {
  public var items: [Item]
  public var next: Cursor?
}

/// A credit request as a provider needs it to decide: the learner and the final grade, as signed.
public struct CreditRequestListing: Sendable, Equatable {
  public var request: CreditRequest
  public var learner: Learner
  public var finalGrade: String
}

/// A row of a course's enrollment report.
public struct EnrollmentListing: Sendable, Equatable {
  public var learnerId: String
  public var fullName: String
  public var mode: EnrollmentMode
  public var creditTrack: Bool
  public var eligibility: Eligibility
  public var purchaseDeadline: Instant?
  public var request: CreditRequest?
}

/// An email of the outbox, with when a worker marked it sent.
public struct OutboxEntry: Sendable, Equatable {
  public var notification: Notification
  public var sentAt: Instant?
}

/// An event of the change feed, with the learner and course it belongs to.
public struct FeedEvent: Sendable, Equatable {
  public var event: Event
  public var learnerId: String
  public var courseId: String?
}

/// What `updateProvider` changes: only the fields given.
public struct ProviderChanges: Sendable, Equatable {
  public var displayName: String?
  public var url: String?
  public var statusUrl: String?
  public var description: String?
  public var fulfillmentInstructions: String?
  public var requiresAdditionalSteps: Bool?
  public var active: Bool?
  public var secrets: [String]?

  public init(
    displayName: String? = nil, url: String? = nil, statusUrl: String? = nil, description: String? = nil,
    fulfillmentInstructions: String? = nil, requiresAdditionalSteps: Bool? = nil, active: Bool? = nil,
    secrets: [String]? = nil
  ) {
    self.displayName = displayName
    self.url = url
    self.statusUrl = statusUrl
    self.description = description
    self.fulfillmentInstructions = fulfillmentInstructions
    self.requiresAdditionalSteps = requiresAdditionalSteps
    self.active = active
    self.secrets = secrets
  }

  /// The provider with these changes applied.
  func applied(to p: Provider) -> Provider {
    var p = p
    if let displayName { p.displayName = displayName }
    if let url { p.url = url }
    if let statusUrl { p.statusUrl = statusUrl }
    if let description { p.description = description }
    if let fulfillmentInstructions { p.fulfillmentInstructions = fulfillmentInstructions }
    if let requiresAdditionalSteps { p.requiresAdditionalSteps = requiresAdditionalSteps }
    if let active { p.active = active }
    return p
  }
}

/// The operators' side (SPEC section 8): providers' queues, provider and offer changes, the email
/// outbox, course reports and the change feed.
extension CreditService {
  // MARK: Providers and offers

  public func updateProvider(_ providerId: String, _ changes: ProviderChanges) throws -> Provider {
    let updated = changes.applied(to: try provider(providerId))
    try db.run(
      """
      UPDATE providers SET display_name = ?, url = ?, status_url = ?, description = ?,
        fulfillment_instructions = ?, requires_additional_steps = ?, active = ?
      WHERE provider_id = ?
      """,
      [
        .text(updated.displayName), .text(updated.url), .optional(updated.statusUrl),
        .optional(updated.description), .optional(updated.fulfillmentInstructions),
        .bool(updated.requiresAdditionalSteps), .bool(updated.active), .text(providerId),
      ])
    if let secrets = changes.secrets {
      try db.run("DELETE FROM provider_secrets WHERE provider_id = ?", [.text(providerId)])
      try storeSecrets(providerId, secrets)
    }
    return updated
  }

  public func withdrawCredit(courseId: String, providerId: String) throws -> Offer {
    _ = try course(courseId)
    _ = try provider(providerId)
    guard let offer = try storedOffer(courseId: courseId, providerId: providerId) else {
      throw CreditError(
        .notFound, "Provider '\(providerId)' has no offer for \(courseId) to withdraw.",
        reason: "offer_not_found", field: "providerId")
    }
    try db.run(
      "UPDATE offers SET active = 0 WHERE course_id = ? AND provider_id = ?",
      [.text(courseId), .text(providerId)])
    var withdrawn = offer
    withdrawn.active = false
    return withdrawn
  }

  // MARK: Providers' queues

  public func listCreditRequests(
    providerId: String?, courseId: String?, status: CreditRequestStatus?, after: Cursor?, limit: Int
  ) throws -> Page<CreditRequestListing> {
    // One statement text per combination of filters, so that each uses the index of its filter.
    var conditions = ["r.seq > ?"]
    var values: [SQLValue] = [.int(after?.id ?? 0)]
    if let providerId {
      conditions.append("r.provider_id = ?")
      values.append(.text(providerId))
    }
    if let courseId {
      conditions.append("r.course_id = ?")
      values.append(.text(courseId))
    }
    if let status {
      conditions.append("r.status = ?")
      values.append(.text(status.rawValue))
    }
    values.append(.int(limit + 1))
    let rows = try db.query(
      """
      SELECT r.request_id, r.learner_id, r.course_id, r.provider_id, p.display_name, r.status, r.created_at,
        r.decided_at, p.url, p.status_url, p.description,
        r.seq, l.full_name, l.email, l.country, l.mailing_address, e.credit_grade, e.course_grade,
        EXISTS (SELECT 1 FROM requirements q WHERE q.course_id = r.course_id AND q.kind = 'grade')
      FROM credit_requests r JOIN providers p ON p.provider_id = r.provider_id
      JOIN learners l ON l.learner_id = r.learner_id
      JOIN enrollments e ON e.learner_id = r.learner_id AND e.course_id = r.course_id
      WHERE \(conditions.joined(separator: " AND ")) ORDER BY r.seq LIMIT ?
      """, values
    ) { s in
      let request = Rows.request(s)  // the same first 11 columns
      let learner = Learner(
        learnerId: request.learnerId, fullName: s.text(12), email: s.text(13), country: s.text(14),
        mailingAddress: s.optionalText(15))
      let grade = s.bool(18) ? s.optionalDouble(16) : s.optionalDouble(17)
      return (
        s.int64(11),
        CreditRequestListing(
          request: request, learner: learner, finalGrade: grade.map(Rules.formatGrade) ?? "")
      )
    }
    return page(rows, limit: limit) { Cursor(.creditRequests, String($0)) }
  }

  // MARK: Course reports

  public func listEnrollments(courseId: String, eligibility: Eligibility?, after: Cursor?, limit: Int) throws
    -> Page<EnrollmentListing>
  {
    let course = try courseFacts(courseId)
    // The stored eligibility is what the last write decided; the course end can since have made a
    // notYetEligible learner ineligible (recorded by the next write). The query takes every row that
    // may qualify now, and the eligibility computed below decides.
    var stored: [Eligibility] = eligibility.map { [$0] } ?? []
    if eligibility == .ineligible, now > course.endsAt { stored.append(.notYetEligible) }
    let rows = try db.query(
      stored.isEmpty
        ? """
        SELECT e.learner_id FROM enrollments e WHERE e.course_id = ? AND e.learner_id > ?
        ORDER BY e.learner_id LIMIT ?
        """
        : """
        SELECT e.learner_id FROM enrollments e
        WHERE e.course_id = ? AND e.eligibility IN (?, ?) AND e.learner_id > ?
        ORDER BY e.learner_id LIMIT ?
        """,
      [.text(courseId)] + stored.map { .text($0.rawValue) }
        + (stored.count == 1 ? [.text(stored[0].rawValue)] : [])
        + [.text(after?.position ?? ""), .int(limit + 1)]
    ) { s in (s.text(0), s.text(0)) }
    var result = page(rows, limit: limit) { Cursor(.enrollments, $0) }
    var listings: [EnrollmentListing] = []
    for learnerId in result.items {
      let s = try standing(learnerId, courseId)
      let status = creditStatus(s, try evaluate(s))
      if let eligibility, status.eligibility != eligibility { continue }
      listings.append(
        EnrollmentListing(
          learnerId: learnerId, fullName: s.learner.fullName, mode: s.mode, creditTrack: s.creditTrack,
          eligibility: status.eligibility, purchaseDeadline: status.purchaseDeadline, request: s.request))
    }
    result.items = []
    return Page(items: listings, next: result.next)
  }

  // MARK: The email outbox

  public func listOutbox(after: Cursor?, limit: Int, unsentOnly: Bool) throws -> Page<OutboxEntry> {
    let sql =
      unsentOnly
      ? """
      SELECT \(Rows.notification), sent_at FROM notifications
      WHERE sent_at IS NULL AND notification_id > ? ORDER BY notification_id LIMIT ?
      """
      : """
      SELECT \(Rows.notification), sent_at FROM notifications
      WHERE notification_id > ? ORDER BY notification_id LIMIT ?
      """
    let rows = try db.query(sql, [.int(after?.id ?? 0), .int(limit + 1)]) { s in
      let n = Rows.notification(s)
      return (n.notificationId, OutboxEntry(notification: n, sentAt: s.optionalInt64(7)))
    }
    return page(rows, limit: limit) { Cursor(.outbox, String($0)) }
  }

  /// Marks notifications sent (at least once delivery: marking again is harmless). All ids must
  /// exist, or nothing is marked. Answers how many were newly marked.
  public func markNotificationsSent(_ ids: [Int64]) throws -> Int {
    var unsent: [Int64] = []
    var seen = Set<Int64>()
    for id in ids where seen.insert(id).inserted {
      guard
        let isUnsent = try db.queryOne(
          "SELECT sent_at IS NULL FROM notifications WHERE notification_id = ?", [.int(id)], { $0.bool(0) })
      else {
        throw CreditError(
          .notFound, "No notification with id \(id) exists; nothing was marked.",
          reason: "notification_not_found", field: "notificationIds")
      }
      if isUnsent { unsent.append(id) }
    }
    for id in unsent {
      try db.run("UPDATE notifications SET sent_at = ? WHERE notification_id = ?", [.int(now), .int(id)])
    }
    return unsent.count
  }

  // MARK: The change feed

  /// Events of every learner and course, oldest first. `next` is the cursor to resume from: the last
  /// event's, or on a page without new events the one given (nil only while the feed is empty).
  public func listEvents(after: Cursor?, limit: Int) throws -> Page<FeedEvent> {
    let events = try db.query(
      """
      SELECT \(Rows.event), learner_id, course_id FROM events WHERE event_id > ? ORDER BY event_id LIMIT ?
      """, [.int(after?.id ?? 0), .int(limit)]
    ) { s in FeedEvent(event: Rows.event(s), learnerId: s.text(8), courseId: s.optionalText(9)) }
    let next = events.last.map { Cursor(.events, String($0.event.eventId)) } ?? after
    return Page(items: events, next: next)
  }

  // MARK: Helpers

  /// A page of the first `limit` of `rows` (which hold up to limit + 1, each with its position), and
  /// the cursor after its last item when there are more.
  private func page<P, Item>(_ rows: [(P, Item)], limit: Int, cursor: (P) -> Cursor) -> Page<Item> {
    let more = rows.count > limit
    let kept = rows.prefix(limit)
    return Page(items: kept.map(\.1), next: more ? kept.last.map { cursor($0.0) } : nil)
  }

  func storedOffer(courseId: String, providerId: String) throws -> Offer? {
    try db.queryOne(
      "SELECT \(Rows.offer) WHERE o.course_id = ? AND o.provider_id = ?",
      [.text(courseId), .text(providerId)],
      Rows.offer)
  }

  func storeSecrets(_ providerId: String, _ secrets: [String]) throws {
    for (i, secret) in secrets.enumerated() {
      try db.run(
        "INSERT INTO provider_secrets (provider_id, position, secret) VALUES (?, ?, ?)",
        [.text(providerId), .int(i), .text(secret)])
    }
  }
}
