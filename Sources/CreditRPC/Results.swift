import CreditCore
import JSON
import JSONRPC

/// A result type: its JSON Schema (in the OpenRPC document) and its encoding, side by side.
public protocol RPCResult {
  static var schema: Schema { get }
  var json: JSONValue { get }
}

private func time(_ t: Instant) -> JSONValue { .string(RFC3339.format(t)) }
private func time(_ t: Instant?) -> JSONValue { t.map { .string(RFC3339.format($0)) } ?? .null }
private func num(_ d: Double?) -> JSONValue { d.map(JSONValue.double) ?? .null }

private let timeSchema = Schema.string(Formats.dateTime)
private let idSchema = Schema.string(Formats.identifier)
private let textSchema = Schema.string(maxLength: 100_000)
private func obj(_ name: String, _ fields: [Field], _ description: String? = nil) -> Schema {
  .object(ObjectSchema(name, description: description, fields))
}

extension Money: RPCResult {
  public static let schema = obj(
    "Money",
    [
      Field("amount", .string(Formats.amount, "The amount with two decimals, e.g. \"300.00\".")),
      Field("currency", .string(Formats.currency)),
    ])
  public var json: JSONValue { ["amount": .string(amount), "currency": .string(currency)] }
}

extension Course: RPCResult {
  public static let schema = obj(
    "Course",
    [
      Field("courseId", .string(Formats.courseId)), Field("org", textSchema), Field("number", textSchema),
      Field("run", textSchema), Field("title", textSchema), Field("startsAt", timeSchema),
      Field("endsAt", timeSchema.described("The last instant of the course.")),
      Field("passingGrade", .number(min: 0, max: 1)), Field("verifiedPrice", Money.schema.orNull),
      Field("purchaseWindowDays", .integer(min: 0)),
      Field("earnCredit", .boolean("True when the course has an active credit offer and a requirement set.")),
    ])
  public var json: JSONValue {
    [
      "courseId": .string(courseId), "org": .string(org), "number": .string(number), "run": .string(run),
      "title": .string(title), "startsAt": time(startsAt), "endsAt": time(endsAt),
      "passingGrade": .double(passingGrade), "verifiedPrice": verifiedPrice?.json ?? .null,
      "purchaseWindowDays": .int(Int(purchaseWindowDays)), "earnCredit": .bool(earnCredit),
    ]
  }
}

extension Provider: RPCResult {
  public static let schema = obj(
    "Provider",
    [
      Field("providerId", idSchema), Field("displayName", textSchema), Field("url", .string(Formats.url)),
      Field("statusUrl", Schema.string(Formats.url).orNull), Field("description", textSchema.orNull),
      Field("fulfillmentInstructions", textSchema.orNull), Field("requiresAdditionalSteps", .boolean()),
      Field("active", .boolean()),
    ], "A credit provider (a university). Its secrets are never shown.")
  public var json: JSONValue {
    [
      "providerId": .string(providerId), "displayName": .string(displayName), "url": .string(url),
      "statusUrl": .optional(statusUrl), "description": .optional(description),
      "fulfillmentInstructions": .optional(fulfillmentInstructions),
      "requiresAdditionalSteps": .bool(requiresAdditionalSteps), "active": .bool(active),
    ]
  }
}

extension Offer: RPCResult {
  public static let schema = obj(
    "Offer",
    [
      Field("courseId", .string(Formats.courseId)), Field("providerId", idSchema),
      Field("displayName", textSchema),
      Field("price", Money.schema),
    ])
  var members: JSONObject {
    [
      "courseId": .string(courseId), "providerId": .string(providerId), "displayName": .string(displayName),
      "price": price.json,
    ]
  }
  public var json: JSONValue { .object(members) }
}

extension Exam: RPCResult {
  public static let schema = obj(
    "Exam",
    [
      Field("courseId", .string(Formats.courseId)), Field("examId", idSchema),
      Field("displayName", textSchema),
      Field("timeLimitMinutes", .integer(min: 1)), Field("passingScore", .number(min: 0, max: 1)),
      Field("proctored", .boolean()),
    ])
  public var json: JSONValue {
    [
      "courseId": .string(courseId), "examId": .string(examId), "displayName": .string(displayName),
      "timeLimitMinutes": .int(Int(timeLimitMinutes)), "passingScore": .double(passingScore),
      "proctored": .bool(proctored),
    ]
  }
}

let requirementFields: [Field] = [
  Field(
    "requirementId", .string(maxLength: 300, "grade, proctoredExam:<examId> or reverification:<checkpointId>")
  ),
  Field("kind", .enumeration(RequirementKind.allCases.map(\.rawValue))),
  Field("displayName", textSchema), Field("order", .integer(min: 1)),
  Field(
    "criteria",
    obj(
      "RequirementCriteria",
      [
        .optional("minGrade", .number(min: 0, max: 1)), .optional("examId", idSchema),
        .optional("checkpointId", idSchema),
      ])),
]

extension Requirement: RPCResult {
  public static let schema = obj("Requirement", requirementFields)
  var criteria: JSONValue {
    var c = JSONObject()
    if let minGrade { c.append("minGrade", .double(minGrade)) }
    if let examId { c.append("examId", .string(examId)) }
    if let checkpointId { c.append("checkpointId", .string(checkpointId)) }
    return .object(c)
  }
  var members: JSONObject {
    [
      "requirementId": .string(requirementId), "kind": .string(kind.rawValue),
      "displayName": .string(displayName),
      "order": .int(order), "criteria": criteria,
    ]
  }
  public var json: JSONValue { .object(members) }
}

extension RequirementState: RPCResult {
  public static let schema = obj(
    "RequirementStatus",
    requirementFields + [
      Field("status", .enumeration(RequirementStatus.allCases.map(\.rawValue))),
      Field("reason", textSchema.orNull), Field("updatedAt", timeSchema.orNull),
    ])
  public var json: JSONValue {
    var o = requirement.members
    o.append("status", .string(status.rawValue))
    o.append("reason", .optional(reason))
    o.append("updatedAt", time(updatedAt))
    return .object(o)
  }
}

let creditStatusFields: [Field] = [
  Field("learnerId", idSchema), Field("courseId", .string(Formats.courseId)),
  Field("creditTrack", .boolean()),
  Field("eligibility", .enumeration(Eligibility.allCases.map(\.rawValue))),
  Field(
    "purchaseDeadline", timeSchema.orNull.described("The last instant to buy credit; null unless eligible.")),
  Field("requirements", .array(RequirementState.schema)),
]

extension CreditStatus: RPCResult {
  public static let schema = obj("CreditStatus", creditStatusFields)
  var members: JSONObject {
    [
      "learnerId": .string(learnerId), "courseId": .string(courseId), "creditTrack": .bool(creditTrack),
      "eligibility": .string(eligibility.rawValue), "purchaseDeadline": time(purchaseDeadline),
      "requirements": .array(requirements.map(\.json)),
    ]
  }
  public var json: JSONValue { .object(members) }
}

extension Learner: RPCResult {
  public static let schema = obj(
    "Learner",
    [
      Field("learnerId", idSchema), Field("fullName", textSchema), Field("email", .string(Formats.email)),
      Field("country", .string(Formats.country)), Field("mailingAddress", textSchema.orNull),
    ])
  public var json: JSONValue {
    [
      "learnerId": .string(learnerId), "fullName": .string(fullName), "email": .string(email),
      "country": .string(country), "mailingAddress": .optional(mailingAddress),
    ]
  }
}

extension Enrollment: RPCResult {
  public static let schema = obj(
    "Enrollment",
    [
      Field("learnerId", idSchema), Field("courseId", .string(Formats.courseId)),
      Field("mode", .enumeration(EnrollmentMode.allCases.map(\.rawValue))), Field("creditTrack", .boolean()),
      Field("enrolledAt", timeSchema.described("The first enrollment, also after an upgrade.")),
    ])
  public var json: JSONValue {
    [
      "learnerId": .string(learnerId), "courseId": .string(courseId), "mode": .string(mode.rawValue),
      "creditTrack": .bool(creditTrack), "enrolledAt": time(enrolledAt),
    ]
  }
}

extension Verification: RPCResult {
  public static let schema = obj(
    "Verification",
    [
      Field("verificationId", idSchema), Field("learnerId", idSchema),
      Field("kind", .enumeration(["initial", "reverification"])),
      Field("courseId", Schema.string(Formats.courseId).orNull), Field("checkpointId", idSchema.orNull),
      Field("status", .enumeration(VerificationStatus.allCases.map(\.rawValue))),
      Field("submittedAt", timeSchema), Field("reviewedAt", timeSchema.orNull),
      Field("expiresAt", timeSchema.orNull.described("Initial verifications only: approval + 365 days.")),
      Field("reason", textSchema.orNull),
    ])
  public var json: JSONValue {
    [
      "verificationId": .string(verificationId), "learnerId": .string(learnerId),
      "kind": .string(kind.rawValue),
      "courseId": .optional(courseId), "checkpointId": .optional(checkpointId),
      "status": .string(status.rawValue),
      "submittedAt": time(submittedAt), "reviewedAt": time(reviewedAt), "expiresAt": time(expiresAt),
      "reason": .optional(reason),
    ]
  }
}

extension ExamAttempt: RPCResult {
  public static let schema = obj(
    "ExamAttempt",
    [
      Field("attemptId", idSchema), Field("learnerId", idSchema),
      Field("courseId", .string(Formats.courseId)),
      Field("examId", idSchema), Field("proctored", .boolean()),
      Field("status", .enumeration(AttemptStatus.allCases.map(\.rawValue))), Field("startedAt", timeSchema),
      Field("deadline", timeSchema), Field("submittedAt", timeSchema.orNull), Field("timedOut", .boolean()),
      Field("score", Schema.number(min: 0, max: 1).orNull),
      Field("review", Schema.enumeration(ExamReview.allCases.map(\.rawValue)).orNull),
    ])
  public var json: JSONValue {
    [
      "attemptId": .string(attemptId), "learnerId": .string(learnerId), "courseId": .string(courseId),
      "examId": .string(examId), "proctored": .bool(proctored), "status": .string(status.rawValue),
      "startedAt": time(startedAt), "deadline": time(deadline), "submittedAt": time(submittedAt),
      "timedOut": .bool(timedOut), "score": num(score), "review": .optional(review?.rawValue),
    ]
  }
}

extension CreditRequest: RPCResult {
  public static let schema = obj(
    "CreditRequest",
    [
      Field("requestId", idSchema), Field("learnerId", idSchema),
      Field("courseId", .string(Formats.courseId)),
      Field("providerId", idSchema), Field("providerName", textSchema),
      Field("status", .enumeration(CreditRequestStatus.allCases.map(\.rawValue))),
      Field("createdAt", timeSchema),
      Field("decidedAt", timeSchema.orNull), Field("providerUrl", .string(Formats.url)),
      Field("providerStatusUrl", Schema.string(Formats.url).orNull),
      Field("providerDescription", textSchema.orNull),
    ])
  var members: JSONObject {
    [
      "requestId": .string(requestId), "learnerId": .string(learnerId), "courseId": .string(courseId),
      "providerId": .string(providerId), "providerName": .string(providerName),
      "status": .string(status.rawValue),
      "createdAt": time(createdAt), "decidedAt": time(decidedAt), "providerUrl": .string(providerUrl),
      "providerStatusUrl": .optional(providerStatusUrl),
      "providerDescription": .optional(providerDescription),
    ]
  }
  public var json: JSONValue { .object(members) }
}

extension Notification: RPCResult {
  public static let schema = obj(
    "Notification",
    [
      Field("notificationId", .integer(min: 1)), Field("learnerId", idSchema),
      Field("kind", .enumeration(NotificationKind.allCases.map(\.rawValue))),
      Field("to", .string(Formats.email)),
      Field("subject", textSchema), Field("body", textSchema), Field("createdAt", timeSchema),
    ])
  var members: JSONObject {
    [
      "notificationId": .int(Int(notificationId)), "learnerId": .string(learnerId),
      "kind": .string(kind.rawValue),
      "to": .string(to), "subject": .string(subject), "body": .string(body), "createdAt": time(createdAt),
    ]
  }
  public var json: JSONValue { .object(members) }
}

extension Event: RPCResult {
  public static let schema = obj(
    "Event",
    [
      Field("eventId", .integer(min: 1)), Field("at", timeSchema),
      Field("actor", textSchema.described("admin, staff, learner:<id>, provider:<id> or system")),
      Field("kind", textSchema), Field("requirementId", textSchema.orNull), Field("from", textSchema.orNull),
      Field("to", textSchema.orNull), Field("detail", textSchema.orNull),
    ])
  var members: JSONObject {
    [
      "eventId": .int(Int(eventId)), "at": time(at), "actor": .string(actor), "kind": .string(kind),
      "requirementId": .optional(requirementId), "from": .optional(from), "to": .optional(to),
      "detail": .optional(detail),
    ]
  }
  public var json: JSONValue { .object(members) }
}

extension DashboardEntry: RPCResult {
  public static let schema = obj(
    "DashboardEnrollment",
    [
      Field("courseId", .string(Formats.courseId)), Field("title", textSchema),
      Field("mode", .enumeration(EnrollmentMode.allCases.map(\.rawValue))),
      Field(
        "certificate", obj("Certificate", [Field("status", .enumeration(["notEarned", "downloadable"]))])),
      Field(
        "credit",
        obj(
          "DashboardCredit",
          creditStatusFields + [
            Field("canPurchase", .boolean()), Field("providers", .array(Offer.schema)),
            Field("request", CreditRequest.schema.orNull),
          ])),
    ])
  public var json: JSONValue {
    var c = credit.members
    c.append("canPurchase", .bool(canPurchase))
    c.append("providers", .array(providers.map(\.json)))
    c.append("request", request?.json ?? .null)
    return [
      "courseId": .string(courseId), "title": .string(title), "mode": .string(mode.rawValue),
      "certificate": ["status": .string(certificate.rawValue)], "credit": .object(c),
    ]
  }
}
