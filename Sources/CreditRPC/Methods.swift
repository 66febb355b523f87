import CreditCore
import JSON
import JSONRPC

// Parameter fields used by several methods.
let learnerIdParam = Field("learnerId", .string(Formats.identifier, "The learner's id."))
let courseIdParam = Field("courseId", .string(Formats.courseId))
let providerIdParam = Field("providerId", .string(Formats.identifier))
let examIdParam = Field("examId", .string(Formats.identifier))
let moneyParam = ObjectSchema(
  "MoneyInput",
  [
    Field("amount", .string(Formats.amount, maxLength: 30)),
    Field("currency", .string(Formats.currency, maxLength: 3)),
  ])
let timeParam = Schema.string(Formats.dateTime, maxLength: 64)
let nameParam = Schema.string(maxLength: 500)

extension ParamReader {
  func requirementInputs() -> [RequirementInput] {
    objects("requirements").map { r in
      RequirementInput(
        kind: RequirementKind(rawValue: r.string("kind"))!, minGrade: r.optionalDouble("minGrade"),
        examId: r.optionalString("examId"), checkpointId: r.optionalString("checkpointId"),
        displayName: r.optionalString("displayName"))
    }
  }
  func instant(_ name: String) -> Instant { RFC3339.parse(string(name))! }
  func money(_ name: String) -> Money? {
    optionalObject(name).map {
      Money(cents: Money.parseAmount($0.string("amount"))!, currency: $0.string("currency"))
    }
  }
}

/// Every method of the service, in the order of SPEC section 3, then the lifecycle of section 6.
public enum Methods {
  public static let all: [MethodDefinition] =
    catalog + learners + journey + IdentityMethods.methods + PurchaseMethods.methods
    + OperatorMethods.methods + clock + LifecycleMethods.methods

  static let catalog: [MethodDefinition] = [
    .method(
      "createCourse", "Creates a course (the same data again returns it unchanged).", access: .staffOnly,
      mutates: true,
      params: [
        courseIdParam, Field("title", nameParam), Field("startsAt", timeParam),
        Field("endsAt", timeParam.described("The last instant of the course; later than startsAt.")),
        .optional("passingGrade", .number(min: 0, max: 1), default: 0.5),
        .optional("verifiedPrice", .object(moneyParam)),
        .optional("purchaseWindowDays", .integer(min: 0, max: 36_500), default: 365),
      ], result: Course.self
    ) { p, c in
      try c.service.createCourse(
        CourseInput(
          courseId: p.string("courseId"), title: p.string("title"), startsAt: p.instant("startsAt"),
          endsAt: p.instant("endsAt"), passingGrade: p.optionalDouble("passingGrade") ?? 0.5,
          verifiedPrice: p.money("verifiedPrice"),
          purchaseWindowDays: p.optionalInt("purchaseWindowDays") ?? 365))
    },
    .method(
      "createProvider", "Creates a credit provider; its secrets sign provider parameters and decisions.",
      access: .staffOnly, mutates: true,
      params: [
        providerIdParam, Field("displayName", nameParam), Field("url", .string(Formats.url, maxLength: 2000)),
        .optional("statusUrl", .string(Formats.url, maxLength: 2000)),
        .optional("description", .string(maxLength: 5000)),
        .optional("fulfillmentInstructions", .string(maxLength: 5000)),
        .optional("requiresAdditionalSteps", .boolean(), default: false),
        Field(
          "secrets",
          .array(
            .string(minLength: 8, maxLength: 500), minItems: 1, maxItems: 10,
            "Shared secrets, newest first: sign with the first, accept any.")),
      ], result: Provider.self
    ) { p, c in
      try c.service.createProvider(
        Provider(
          providerId: p.string("providerId"), displayName: p.string("displayName"), url: p.string("url"),
          statusUrl: p.optionalString("statusUrl"), description: p.optionalString("description"),
          fulfillmentInstructions: p.optionalString("fulfillmentInstructions"),
          requiresAdditionalSteps: p.bool("requiresAdditionalSteps", default: false), active: true),
        secrets: p.strings("secrets"))
    },
    .method(
      "offerCredit", "Lets a provider offer credit for a course at a price.", access: .staffOnly,
      mutates: true,
      params: [courseIdParam, providerIdParam, Field("price", .object(moneyParam))], result: Offer.self
    ) { p, c in
      try c.service.offerCredit(
        courseId: p.string("courseId"), providerId: p.string("providerId"), price: p.money("price")!)
    },
    .method(
      "createExam", "Creates an exam in a course; proctored unless told otherwise.", access: .staffOnly,
      mutates: true,
      params: [
        courseIdParam, examIdParam, Field("displayName", nameParam),
        Field("timeLimitMinutes", .integer(min: 1, max: 100_000)),
        Field("passingScore", .number(min: 0, max: 1)),
        .optional("proctored", .boolean(), default: true),
      ], result: Exam.self
    ) { p, c in
      try c.service.createExam(
        Exam(
          courseId: p.string("courseId"), examId: p.string("examId"), displayName: p.string("displayName"),
          timeLimitMinutes: p.int("timeLimitMinutes"), passingScore: p.double("passingScore"),
          proctored: p.bool("proctored", default: true)))
    },
    .list(
      "setCreditRequirements",
      "Replaces a course's ordered credit requirements; statuses of requirements that stay are kept.",
      access: .staffOnly, mutates: true,
      params: [
        courseIdParam,
        Field(
          "requirements",
          .array(
            Schema(
              .tagged(
                tag: "kind",
                variants: [
                  (
                    "grade",
                    ObjectSchema(
                      "GradeRequirementInput",
                      [
                        Field("kind", .enumeration(["grade"])), Field("minGrade", .number(min: 0, max: 1)),
                        .optional("displayName", nameParam),
                      ])
                  ),
                  (
                    "proctoredExam",
                    ObjectSchema(
                      "ExamRequirementInput",
                      [
                        Field("kind", .enumeration(["proctoredExam"])), examIdParam,
                        .optional("displayName", nameParam),
                      ])
                  ),
                  (
                    "reverification",
                    ObjectSchema(
                      "ReverificationRequirementInput",
                      [
                        Field("kind", .enumeration(["reverification"])),
                        Field("checkpointId", .string(Formats.identifier)), Field("displayName", nameParam),
                      ])
                  ),
                ])), maxItems: 100)),
      ], key: "requirements", of: Requirement.self,
      extra: [courseIdParam]
    ) { p, c in
      let courseId = p.string("courseId")
      return (
        try c.service.setCreditRequirements(courseId: courseId, p.requirementInputs()),
        ["courseId": .string(courseId)]
      )
    }.checking { p, _ in try CreditService.checkRequirementInputs(p.requirementInputs()) },
    MethodDefinition(
      "listCourses", "The catalog; courses that offer credit have earnCredit: true.", access: .everyone,
      mutates: false, params: [.optional("creditOnly", .boolean(), default: false)], resultName: "courses",
      result: .object(
        ObjectSchema(
          nil,
          [
            Field(
              "courses",
              .array(
                .object(
                  ObjectSchema(
                    "CourseListing",
                    (Course.schema.objectFields) + [Field("providers", .array(Offer.schema))]))))
          ]))
    ) { p, c in
      let listings = try c.service.listCourses(creditOnly: p.bool("creditOnly", default: false))
      return [
        "courses": .array(
          listings.map { l in
            var o = l.course.json.objectValue!
            o.append("providers", .array(l.offers.map(\.json)))
            return .object(o)
          })
      ]
    },
  ]

  static let learners: [MethodDefinition] = [
    .method(
      "createLearner", "Creates a learner (the same data again returns it unchanged).",
      access: .staffOrLearnerSelf, mutates: true,
      params: [
        learnerIdParam, Field("fullName", nameParam), Field("email", .string(Formats.email, maxLength: 320)),
        Field("country", .string(Formats.country, maxLength: 2)),
        .optional("mailingAddress", .string(maxLength: 2000)),
      ], result: Learner.self
    ) { p, c in
      try c.service.createLearner(
        Learner(
          learnerId: p.string("learnerId"), fullName: p.string("fullName"), email: p.string("email"),
          country: p.string("country"), mailingAddress: p.optionalString("mailingAddress")))
    },
    .method(
      "enroll",
      "Enrolls a learner; verified is the credit track. Audit may be upgraded until the course ends.",
      access: .staffOrLearnerSelf, mutates: true,
      params: [
        learnerIdParam, courseIdParam, Field("mode", .enumeration(EnrollmentMode.allCases.map(\.rawValue))),
      ],
      result: Enrollment.self
    ) { p, c in
      try c.service.enroll(
        learnerId: p.string("learnerId"), courseId: p.string("courseId"),
        mode: EnrollmentMode(rawValue: p.string("mode"))!)
    },
  ]

  static let journey: [MethodDefinition] = [
    .method(
      "recordGrade",
      "Records the course grade, or with examId an exam score, and re-decides the requirements.",
      access: .staffOnly, mutates: true,
      params: [
        learnerIdParam, courseIdParam, Field("grade", .number(min: 0, max: 1)),
        .optional("examId", .string(Formats.identifier, "Record an exam score instead of the course grade.")),
      ], result: CreditStatus.self
    ) { p, c in
      try c.service.recordGrade(
        learnerId: p.string("learnerId"), courseId: p.string("courseId"), grade: p.double("grade"),
        examId: p.optionalString("examId"))
    },
    .method(
      "getRequirements", "The Requirements for Course Credit section of the progress page.",
      access: .staffOrLearnerSelf, mutates: false, params: [learnerIdParam, courseIdParam],
      result: CreditStatus.self
    ) { p, c in
      try c.service.getRequirements(learnerId: p.string("learnerId"), courseId: p.string("courseId"))
    },
    MethodDefinition(
      "getDashboard", "The learner's dashboard: each enrollment with its certificate and credit.",
      access: .staffOrLearnerSelf, mutates: false, params: [learnerIdParam], resultName: "Dashboard",
      result: .object(
        ObjectSchema("Dashboard", [learnerIdParam, Field("enrollments", .array(DashboardEntry.schema))]))
    ) { p, c in
      let id = p.string("learnerId")
      return [
        "learnerId": .string(id),
        "enrollments": .array(try c.service.getDashboard(learnerId: id).map(\.json)),
      ]
    },
    .method(
      "declineRequirement",
      "Declines an identity check (a reverification checkpoint, or proctoring of an exam not started): "
        + "no credit in this course, for good; the certificate is still possible.",
      access: .learnerSelfOnly, mutates: true,
      params: [learnerIdParam, courseIdParam, Field("requirementId", .string(maxLength: 300))],
      result: CreditStatus.self
    ) { p, c in
      try c.service.declineRequirement(
        learnerId: p.string("learnerId"), courseId: p.string("courseId"),
        requirementId: p.string("requirementId"))
    },
    .method(
      "extendPurchaseDeadline", "Gives one learner a later purchase deadline than the course's own.",
      access: .staffOnly, mutates: true,
      params: [learnerIdParam, courseIdParam, Field("deadline", timeParam)],
      result: CreditStatus.self
    ) { p, c in
      try c.service.extendPurchaseDeadline(
        learnerId: p.string("learnerId"), courseId: p.string("courseId"), deadline: p.instant("deadline"))
    },
    .list(
      "listNotifications", "The learner's emails, oldest first, after afterId (at most 1000 at a time).",
      access: .staffOrLearnerSelf,
      params: [learnerIdParam, .optional("afterId", .integer(min: 0))], key: "notifications",
      of: Notification.self
    ) { p, c in
      (
        try c.service.listNotifications(learnerId: p.string("learnerId"), afterId: p.optionalInt("afterId")),
        [:]
      )
    },
    .list(
      "getHistory", "Every event of a learner in a course (and the learner's identity events), in order.",
      access: .staffOrLearnerSelf, params: [learnerIdParam, courseIdParam], key: "events", of: Event.self
    ) { p, c in
      (try c.service.getHistory(learnerId: p.string("learnerId"), courseId: p.string("courseId")), [:])
    },
  ]

  static let clock: [MethodDefinition] = [
    MethodDefinition(
      "clock.set", "Sets the test clock (only under --test-clock).", access: .everyone, mutates: false,
      params: [Field("now", timeParam)], resultName: "now",
      result: .object(ObjectSchema("ClockResult", [Field("now", timeParam)])), testClockOnly: true
    ) { p, c in
      c.testClock!.now = try latestClock(p.instant("now"), field: "now")
      return ["now": .string(RFC3339.format(c.testClock!.now))]
    },
    MethodDefinition(
      "clock.advance", "Moves the test clock forward (only under --test-clock).", access: .everyone,
      mutates: false, params: [Field("seconds", .integer(min: 0, max: 3_153_600_000))], resultName: "now",
      result: .object(ObjectSchema("ClockResult", [Field("now", timeParam)])), testClockOnly: true
    ) { p, c in
      c.testClock!.now = try latestClock(c.testClock!.now + p.int("seconds"), field: "seconds")
      return ["now": .string(RFC3339.format(c.testClock!.now))]
    },
  ]
}

/// The test clock stops 365 days short of 9999-12-31T23:59:59Z, so that every date derived from it (an approval
/// valid for 365 days) can still be written.
func latestClock(_ t: Instant, field: String) throws -> Instant {
  let latest = RFC3339.maxInstant - 365 * 86_400
  guard t <= latest else {
    throw CreditError.invalidParams(
      "The test clock goes up to \(RFC3339.format(latest)).", field: field, reason: "date_out_of_range")
  }
  return t
}

extension Schema {
  /// The fields of an object schema (empty for other kinds).
  var objectFields: [Field] {
    if case .object(let o) = kind { return o.fields }
    return []
  }
}
