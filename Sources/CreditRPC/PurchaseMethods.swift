import CreditCore
import JSON
import JSONRPC

extension CompleteCredit: RPCResult {
  public static let schema = Schema.object(
    ObjectSchema(
      "CompleteCredit",
      description: "POST these parameters to url to complete the provider's own steps.",
      [
        Field("url", .string(Formats.url)), Field("method", .enumeration(["POST"])),
        Field(
          "parameters",
          .object(
            ObjectSchema(
              "SignedCreditParameters",
              [
                Field("course_completion_timestamp", .integer()), Field("course_num", .string(minLength: 0)),
                Field("course_org", .string(minLength: 0)), Field("course_run", .string(minLength: 0)),
                Field("enrollment_timestamp", .integer()), Field("final_grade", .string(minLength: 0)),
                Field("request_uuid", .string()), Field("timestamp", .integer()),
                Field("user_country", .string(minLength: 0)), Field("user_email", .string(minLength: 0)),
                Field("user_full_name", .string(minLength: 0)),
                Field("user_mailing_address", .string(minLength: 0)),
                Field("user_username", .string(minLength: 0)),
                Field("signature", .string(minLength: 64, maxLength: 64, "HMAC-SHA256, hex")),
              ]))),
      ]))
  public var json: JSONValue {
    var p = JSONObject()
    for (k, v) in parameters {
      switch v {
      case .int(let i): p.append(k, .number(JSONNumber(i)))
      case .string(let s): p.append(k, .string(s))
      }
    }
    return ["url": .string(url), "method": .string(method), "parameters": .object(p)]
  }
}

extension CreditCore.Purchase: RPCResult {
  public static let schema = Schema.object(
    ObjectSchema(
      "Purchase",
      [
        Field("orderId", .string(Formats.identifier)), Field("amount", Money.schema),
        Field("paymentMethod", .enumeration(PaymentMethod.allCases.map(\.rawValue))),
        Field("purchasedAt", .string(Formats.dateTime)), Field("creditRequest", CreditRequest.schema),
        Field("completeCredit", CompleteCredit.schema.orNull),
      ]))
  public var json: JSONValue {
    [
      "orderId": .string(orderId), "amount": amount.json, "paymentMethod": .string(paymentMethod.rawValue),
      "purchasedAt": .string(RFC3339.format(purchasedAt)), "creditRequest": creditRequest.json,
      "completeCredit": completeCredit?.json ?? .null,
    ]
  }
}

/// Buying credit and the provider's decision.
enum PurchaseMethods {
  static let methods: [MethodDefinition] = [
    .method(
      "purchaseCredit",
      "Buys credit from one provider for an eligible learner; the same idempotencyKey replays the first answer.",
      access: .learnerSelfOnly, mutates: true,
      params: [
        learnerIdParam, courseIdParam, providerIdParam,
        Field(
          "payment",
          .object(
            ObjectSchema(
              "PaymentInput",
              [
                Field("method", .enumeration(PaymentMethod.allCases.map(\.rawValue))),
                Field(
                  "token",
                  .string(
                    maxLength: 500,
                    "Test processor: card tok_visa (approved) or tok_chargeDeclined; "
                      + "PayPal paypal_approved or paypal_cancelled.")),
              ]))),
        Field(
          "idempotencyKey",
          .string(Formats.identifier, "Retry with the same key to get the first answer again.")),
      ], result: CreditCore.Purchase.self
    ) { p, c in
      let payment = p.object("payment")
      return try c.service.purchaseCredit(
        learnerId: p.string("learnerId"), courseId: p.string("courseId"), providerId: p.string("providerId"),
        method: PaymentMethod(rawValue: payment.string("method"))!, token: payment.string("token"),
        idempotencyKey: p.string("idempotencyKey"))
    },
    .method(
      "getCreditRequest", "A credit request and its decision.", access: .creditRequestReader, mutates: false,
      params: [Field("requestId", .string(Formats.identifier))], result: CreditRequest.self
    ) { p, c in
      try c.service.getCreditRequest(requestId: p.string("requestId"))
    },
    .method(
      "submitProviderDecision",
      "The provider's approved or rejected, signed over request_uuid, status and timestamp with one of its secrets.",
      access: .providerSelfOnly, mutates: true,
      params: [
        providerIdParam, Field("requestId", .string(Formats.identifier)),
        Field("status", .enumeration(["approved", "rejected"])),
        Field("timestamp", .integer(min: 0, max: 253_402_300_799, "Unix seconds.")),
        Field("signature", .string(Formats.hmacHex, maxLength: 64, "HMAC-SHA256, hex.")),
      ], result: CreditRequest.self
    ) { p, c in
      try c.service.submitProviderDecision(
        providerId: p.string("providerId"), requestId: p.string("requestId"),
        approved: p.string("status") == "approved", timestamp: p.int("timestamp"),
        signature: p.string("signature"))
    },
  ]
}
