import CreditCrypto

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
    guard let c = parse(token, for: list), !numeric || c.id != nil else { throw invalid }
    return c
  }

  static let invalid = CreditError.invalidParams(
    "'after' is not a cursor of this list: pass the 'next' value of the previous page unchanged, "
      + "or omit it to start from the beginning.", field: "after", reason: "invalid_cursor")
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

  public init(request: CreditRequest, learner: Learner, finalGrade: String) {
    self.request = request
    self.learner = learner
    self.finalGrade = finalGrade
  }
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

  public init(notification: Notification, sentAt: Instant?) {
    self.notification = notification
    self.sentAt = sentAt
  }
}

/// An event of the change feed, with the learner and course it belongs to.
public struct FeedEvent: Sendable, Equatable {
  public var event: Event
  public var learnerId: String
  public var courseId: String?

  public init(event: Event, learnerId: String, courseId: String?) {
    self.event = event
    self.learnerId = learnerId
    self.courseId = courseId
  }
}

/// The filters of a providers' queue.
public struct CreditRequestFilter: Sendable, Equatable {
  public var providerId: String?
  public var courseId: String?
  public var status: CreditRequestStatus?

  public init(providerId: String? = nil, courseId: String? = nil, status: CreditRequestStatus? = nil) {
    self.providerId = providerId
    self.courseId = courseId
    self.status = status
  }
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
    try store.updateProvider(updated, secrets: changes.secrets)
    return updated
  }

  public func withdrawCredit(courseId: String, providerId: String) throws -> Offer {
    _ = try course(courseId)
    _ = try provider(providerId)
    guard var offer = try store.offer(courseId: courseId, providerId: providerId) else {
      throw CreditError(
        .notFound, "Provider '\(providerId)' has no offer for \(courseId) to withdraw.",
        reason: "offer_not_found", field: "providerId")
    }
    offer.active = false
    try store.storeOffer(offer)
    return offer
  }

  // MARK: Providers' queues

  public func listCreditRequests(_ filter: CreditRequestFilter, after: Cursor?, limit: Int) throws
    -> Page<CreditRequestListing>
  {
    let rows = try store.creditRequests(filter, afterSeq: after?.id ?? 0, limit: limit + 1)
    return page(rows.map { ($0.seq, $0.listing) }, limit: limit) { Cursor(.creditRequests, String($0)) }
  }

  // MARK: Course reports

  public func listEnrollments(courseId: String, eligibility: Eligibility?, after: Cursor?, limit: Int) throws
    -> Page<EnrollmentListing>
  {
    let course = try course(courseId)
    // The stored eligibility is what the last write decided; the course end can since have made a
    // notYetEligible learner ineligible (recorded by the next write). The query takes every row that
    // may qualify now, and the eligibility computed below decides.
    var stored: [Eligibility] = eligibility.map { [$0] } ?? []
    if eligibility == .ineligible, now > course.endsAt { stored.append(.notYetEligible) }
    let ids = try store.enrolledLearners(
      courseId: courseId, storedEligibility: stored, afterLearnerId: after?.position ?? "", limit: limit + 1)
    let result = page(ids.map { ($0, $0) }, limit: limit) { Cursor(.enrollments, $0) }
    var listings: [EnrollmentListing] = []
    for learnerId in result.items {
      let s = try standing(learnerId, courseId)
      let status = creditStatus(s, try evaluate(s))
      if let eligibility, status.eligibility != eligibility { continue }
      listings.append(
        EnrollmentListing(
          learnerId: learnerId, fullName: s.learner.fullName, mode: s.enrollment.mode,
          creditTrack: status.creditTrack, eligibility: status.eligibility,
          purchaseDeadline: status.purchaseDeadline, request: s.request))
    }
    return Page(items: listings, next: result.next)
  }

  // MARK: The email outbox

  public func listOutbox(after: Cursor?, limit: Int, unsentOnly: Bool) throws -> Page<OutboxEntry> {
    let rows = try store.outbox(afterId: after?.id ?? 0, limit: limit + 1, unsentOnly: unsentOnly)
    return page(rows.map { ($0.notification.notificationId, $0) }, limit: limit) {
      Cursor(.outbox, String($0))
    }
  }

  /// Marks notifications sent (at-least-once delivery: marking again is harmless). All ids must
  /// exist, or nothing is marked. Answers how many were newly marked.
  public func markNotificationsSent(_ ids: [Int64]) throws -> Int {
    var unsent: [Int64] = []
    var seen = Set<Int64>()
    for id in ids where seen.insert(id).inserted {
      guard let sent = try store.notificationIsSent(id) else {
        throw CreditError(
          .notFound, "No notification with id \(id) exists; nothing was marked.",
          reason: "notification_not_found", field: "notificationIds")
      }
      if !sent { unsent.append(id) }
    }
    for id in unsent { try store.markSent(id, at: now) }
    return unsent.count
  }

  // MARK: The change feed

  /// Events of every learner and course, oldest first. `next` is the cursor to resume from: the last
  /// event's, or on a page without new events the one given (nil only while the feed is empty).
  public func listEvents(after: Cursor?, limit: Int) throws -> Page<FeedEvent> {
    let events = try store.feed(afterEventId: after?.id, limit: limit)
    let next = events.last.map { Cursor(.events, String($0.event.eventId)) } ?? after
    return Page(items: events, next: next)
  }

  /// A page of the first `limit` of `rows` (which hold up to limit + 1, each with its position), and
  /// the cursor after its last item when there are more.
  private func page<P, Item>(_ rows: [(P, Item)], limit: Int, cursor: (P) -> Cursor) -> Page<Item> {
    let more = rows.count > limit
    let kept = rows.prefix(limit)
    return Page(items: kept.map(\.1), next: more ? kept.last.map { cursor($0.0) } : nil)
  }
}
