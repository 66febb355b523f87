import CreditCore
import JSON
import JSONRPC

private let textSchema = Schema.string(maxLength: 100_000)
private let cursorSchema = Schema.string(
  maxLength: 2000, "The next value of the previous page, unchanged; omit to start from the beginning.")
private let afterParam = Field.optional("after", cursorSchema)
private let limitParam = Field.optional("limit", .integer(min: 1, max: 1000), default: 100)
private let urlParam = Schema.string(Formats.url, maxLength: 2000)

private func pageFields(_ key: String, _ item: Schema, nextDescription: String) -> Schema {
  .object(
    ObjectSchema(
      nil,
      [
        Field(key, .array(item)),
        Field("next", Schema.string().orNull.described(nextDescription)),
      ]))
}

private func pageJSON<T>(_ key: String, _ page: Page<T>, _ item: (T) -> JSONValue) -> JSONValue {
  [key: .array(page.items.map(item)), "next": page.next.map { .string($0.token) } ?? .null]
}

extension ParamReader {
  /// The validated `limit` (1-1000, default 100).
  var limit: Int { Int(optionalInt("limit") ?? 100) }
  func cursor(_ list: Cursor.List, numeric: Bool) throws -> Cursor? {
    try Cursor.after(optionalString("after"), for: list, numeric: numeric)
  }
}

extension CreditRequestListing: RPCResult {
  public static let schema = Schema.object(
    ObjectSchema(
      "CreditRequestListing",
      description:
        "A credit request with what the provider needs to decide it (as in the signed parameters).",
      CreditRequest.schema.objectFields + [
        Field("learner", Learner.schema),
        Field("finalGrade", .string(minLength: 0, "The final grade as signed: \"0.86\", or \"\" when none.")),
      ]))
  public var json: JSONValue {
    var o = request.members
    o.append("learner", learner.json)
    o.append("finalGrade", .string(finalGrade))
    return .object(o)
  }
}

extension EnrollmentListing: RPCResult {
  public static let schema = Schema.object(
    ObjectSchema(
      "EnrollmentListing",
      [
        learnerIdParam, Field("fullName", textSchema),
        Field("mode", .enumeration(EnrollmentMode.allCases.map(\.rawValue))),
        Field("creditTrack", .boolean()),
        Field("eligibility", .enumeration(Eligibility.allCases.map(\.rawValue))),
        Field("purchaseDeadline", Schema.string(Formats.dateTime).orNull),
        Field("request", CreditRequest.schema.orNull),
      ]))
  public var json: JSONValue {
    [
      "learnerId": .string(learnerId), "fullName": .string(fullName), "mode": .string(mode.rawValue),
      "creditTrack": .bool(creditTrack), "eligibility": .string(eligibility.rawValue),
      "purchaseDeadline": purchaseDeadline.map { .string(RFC3339.format($0)) } ?? .null,
      "request": request?.json ?? .null,
    ]
  }
}

extension OutboxEntry: RPCResult {
  public static let schema = Schema.object(
    ObjectSchema(
      "OutboxNotification",
      Notification.schema.objectFields + [
        Field(
          "sentAt", Schema.string(Formats.dateTime).orNull.described("When a worker first marked it sent."))
      ]))
  public var json: JSONValue {
    var o = notification.members
    o.append("sentAt", sentAt.map { .string(RFC3339.format($0)) } ?? .null)
    return .object(o)
  }
}

extension FeedEvent: RPCResult {
  public static let schema = Schema.object(
    ObjectSchema(
      "FeedEvent",
      Event.schema.objectFields + [learnerIdParam, Field("courseId", Schema.string(Formats.courseId).orNull)])
  )
  public var json: JSONValue {
    var o = event.members
    o.append("learnerId", .string(learnerId))
    o.append("courseId", .optional(courseId))
    return .object(o)
  }
}

/// An offer as `withdrawCredit` answers it: with its `active` flag.
struct WithdrawnOffer: RPCResult {
  var offer: Offer
  static let schema = Schema.object(
    ObjectSchema("WithdrawnOffer", Offer.schema.objectFields + [Field("active", .boolean())]))
  var json: JSONValue {
    var o = offer.members
    o.append("active", .bool(offer.active))
    return .object(o)
  }
}

/// The operators' side (SPEC section 8).
enum OperatorMethods {
  static let methods: [MethodDefinition] = [
    MethodDefinition(
      "listCreditRequests",
      "Credit requests, oldest first, filtered by provider, course and status: a provider's queue "
        + "(a provider sees only its own).",
      access: .staffOrProviderSelf, mutates: false,
      params: [
        .optional("providerId", .string(Formats.identifier)),
        .optional("courseId", .string(Formats.courseId)),
        .optional("status", .enumeration(CreditRequestStatus.allCases.map(\.rawValue))), afterParam,
        limitParam,
      ], resultName: "CreditRequestPage",
      result: pageFields(
        "requests", CreditRequestListing.schema,
        nextDescription: "The cursor of the next page; null on the last.")
    ) { p, c in
      var providerId = p.optionalString("providerId")
      if case .provider(let own) = c.principal { providerId = own }
      let filter = CreditRequestFilter(
        providerId: providerId, courseId: p.optionalString("courseId"),
        status: p.optionalString("status").flatMap(CreditRequestStatus.init(rawValue:)))
      let page = try c.service.listCreditRequests(
        filter, after: try p.cursor(.creditRequests, numeric: true), limit: p.limit)
      return pageJSON("requests", page) { $0.json }
    },
    .method(
      "updateProvider",
      "Changes only the fields given; secrets replaces the list (newest first: signing uses the first, "
        + "verification accepts any). active: false hides the provider's offers.",
      access: .staffOnly, mutates: true,
      params: [
        providerIdParam, .optional("displayName", .string(maxLength: 500)), .optional("url", urlParam),
        .optional("statusUrl", urlParam), .optional("description", .string(maxLength: 5000)),
        .optional("fulfillmentInstructions", .string(maxLength: 5000)),
        .optional("requiresAdditionalSteps", .boolean()), .optional("active", .boolean()),
        .optional("secrets", .array(.string(minLength: 8, maxLength: 500), minItems: 1, maxItems: 10)),
      ], result: Provider.self
    ) { p, c in
      try c.service.updateProvider(
        p.string("providerId"),
        ProviderChanges(
          displayName: p.optionalString("displayName"), url: p.optionalString("url"),
          statusUrl: p.optionalString("statusUrl"), description: p.optionalString("description"),
          fulfillmentInstructions: p.optionalString("fulfillmentInstructions"),
          requiresAdditionalSteps: p.optionalBool("requiresAdditionalSteps"),
          active: p.optionalBool("active"),
          secrets: p.has("secrets") ? p.strings("secrets") : nil))
    },
    .method(
      "withdrawCredit",
      "Withdraws a provider's offer for a course: no longer offered or for sale; requests already made stay. "
        + "offerCredit offers it again.",
      access: .staffOnly, mutates: true, params: [courseIdParam, providerIdParam], result: WithdrawnOffer.self
    ) { p, c in
      WithdrawnOffer(
        offer: try c.service.withdrawCredit(
          courseId: p.string("courseId"), providerId: p.string("providerId")))
    },
    MethodDefinition(
      "listEnrollments", "A course's learners by learnerId, with eligibility and credit request.",
      access: .staffOnly, mutates: false,
      params: [
        courseIdParam, .optional("eligibility", .enumeration(Eligibility.allCases.map(\.rawValue))),
        afterParam,
        limitParam,
      ], resultName: "EnrollmentPage",
      result: pageFields(
        "enrollments", EnrollmentListing.schema,
        nextDescription: "The cursor of the next page; null on the last.")
    ) { p, c in
      let page = try c.service.listEnrollments(
        courseId: p.string("courseId"),
        eligibility: p.optionalString("eligibility").flatMap(Eligibility.init(rawValue:)),
        after: try p.cursor(.enrollments, numeric: false), limit: p.limit)
      return pageJSON("enrollments", page) { $0.json }
    },
    MethodDefinition(
      "listOutbox",
      "Emails of every learner, oldest first; by default only those not yet marked sent (at-least-once "
        + "delivery: list, send, then markNotificationsSent).",
      access: .staffOnly, mutates: false,
      params: [afterParam, limitParam, .optional("unsentOnly", .boolean(), default: true)],
      resultName: "OutboxPage",
      result: pageFields(
        "notifications", OutboxEntry.schema, nextDescription: "The cursor of the next page; null on the last."
      )
    ) { p, c in
      let page = try c.service.listOutbox(
        after: try p.cursor(.outbox, numeric: true), limit: p.limit,
        unsentOnly: p.bool("unsentOnly", default: true))
      return pageJSON("notifications", page) { $0.json }
    },
    .method(
      "markNotificationsSent",
      "Marks emails sent; marking again is harmless. An unknown id marks nothing of the call.",
      access: .staffOnly, mutates: true,
      params: [Field("notificationIds", .array(.integer(min: 1), minItems: 1, maxItems: 1000))],
      result: MarkedCount.self
    ) { p, c in
      MarkedCount(
        marked: try c.service.markNotificationsSent(
          p.array("notificationIds").compactMap(\.numberValue?.int64)))
    },
    MethodDefinition(
      "listEvents",
      "The change feed: every learner's events, oldest first. Poll with the last next: it is never null once "
        + "the feed has events.",
      access: .staffOnly, mutates: false, params: [afterParam, limitParam], resultName: "EventPage",
      result: pageFields(
        "events", FeedEvent.schema,
        nextDescription:
          "The cursor to resume from: the last event's, or the one given when no event is new; "
          + "null only while the feed is empty.")
    ) { p, c in
      let page = try c.service.listEvents(after: try p.cursor(.events, numeric: true), limit: p.limit)
      return pageJSON("events", page) { $0.json }
    },
  ]
}

struct MarkedCount: RPCResult {
  var marked: Int
  static let schema = Schema.object(
    ObjectSchema("MarkedCount", [Field("marked", .integer(min: 0, "How many were newly marked."))]))
  var json: JSONValue { ["marked": .int(marked)] }
}
