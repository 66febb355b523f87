import CreditCore
import JSON
import JSONRPC

/// Identity verification, reverification and proctored exams.
enum IdentityMethods {
  /// Base64 text of an image of up to 10 MiB (the service checks the decoded size).
  static let image = Schema.string(
    Formats.base64, maxLength: 14_000_000, "A base64-encoded image (at most 10 MiB decoded).")

  static let methods: [MethodDefinition] = [
    .method(
      "verifyIdentity", "Submits the initial identity verification: a photo of an ID and a face photo.",
      access: .learnerSelfOnly, mutates: true,
      params: [
        learnerIdParam, Field("photoIdImage", IdentityMethods.image),
        Field("faceImage", IdentityMethods.image),
      ], result: Verification.self
    ) { p, c in
      try c.service.verifyIdentity(
        learnerId: p.string("learnerId"), photoIdImage: p.string("photoIdImage"),
        faceImage: p.string("faceImage"))
    }.checking { p, c in
      try c.service.checkImage(p.string("photoIdImage"), field: "photoIdImage")
      try c.service.checkImage(p.string("faceImage"), field: "faceImage")
    },
    .method(
      "reviewVerification",
      "Approves or denies a verification, named by verificationId, or by learnerId (the initial one), or by "
        + "learnerId + courseId + checkpointId (a reverification).",
      access: .staffOnly, mutates: true,
      params: [
        .optional("verificationId", .string(Formats.identifier)),
        .optional("learnerId", .string(Formats.identifier)),
        .optional("courseId", .string(Formats.courseId)),
        .optional("checkpointId", .string(Formats.identifier)),
        Field("decision", .enumeration(["approved", "denied"])),
        .optional("reason", .string(maxLength: 2000)),
      ], result: Verification.self
    ) { p, c in
      let address: VerificationAddress
      switch (
        p.optionalString("verificationId"), p.optionalString("learnerId"), p.optionalString("courseId"),
        p.optionalString("checkpointId")
      )
      {
      case (let id?, nil, nil, nil): address = .id(id)
      case (nil, let l?, nil, nil): address = .initial(learnerId: l)
      case (nil, let l?, let course?, let checkpoint?):
        address = .checkpoint(learnerId: l, courseId: course, checkpointId: checkpoint)
      default:
        throw CreditError.invalidParams(
          "Name the verification either by verificationId alone, or by learnerId (the initial verification), or by "
            + "learnerId, courseId and checkpointId together (a reverification).",
          field: p.has("verificationId") ? "verificationId" : "learnerId", reason: "ambiguous_address")
      }
      return try c.service.reviewVerification(
        address, approved: p.string("decision") == "approved", reason: p.optionalString("reason"))
    },
    .method(
      "reverify", "Submits a webcam face photo at an in-course identity checkpoint.",
      access: .learnerSelfOnly,
      mutates: true,
      params: [
        learnerIdParam, courseIdParam, Field("checkpointId", .string(Formats.identifier)),
        Field("faceImage", image).hint(
          "Reverification needs a face photo taken with a webcam at the checkpoint; use a computer with a webcam."
        ),
      ], result: Verification.self
    ) { p, c in
      try c.service.reverify(
        learnerId: p.string("learnerId"), courseId: p.string("courseId"),
        checkpointId: p.string("checkpointId"),
        faceImage: p.string("faceImage"))
    }.checking { p, c in try c.service.checkImage(p.string("faceImage"), field: "faceImage") },
    .method(
      "startExam",
      "Starts the learner's one attempt at an exam; a proctored exam needs an approved identity verification.",
      access: .learnerSelfOnly, mutates: true, params: [learnerIdParam, courseIdParam, examIdParam],
      result: ExamAttempt.self
    ) { p, c in
      try c.service.startExam(
        learnerId: p.string("learnerId"), courseId: p.string("courseId"), examId: p.string("examId"))
    },
    .method(
      "submitExam",
      "Submits the attempt; one already submitted (perhaps automatically at its deadline) is returned as is.",
      access: .learnerSelfOnly, mutates: true, params: [learnerIdParam, courseIdParam, examIdParam],
      result: ExamAttempt.self
    ) { p, c in
      try c.service.submitExam(
        learnerId: p.string("learnerId"), courseId: p.string("courseId"), examId: p.string("examId"))
    },
    .method(
      "reviewExam",
      "Records the proctoring review of a submitted attempt, named by attemptId or by learnerId + courseId + examId.",
      access: .staffOnly, mutates: true,
      params: [
        .optional("attemptId", .string(Formats.identifier)),
        .optional("learnerId", .string(Formats.identifier)),
        .optional("courseId", .string(Formats.courseId)), .optional("examId", .string(Formats.identifier)),
        Field("review", .enumeration(ExamReview.allCases.map(\.rawValue))),
        .optional("comment", .string(maxLength: 2000)),
      ], result: ExamAttempt.self
    ) { p, c in
      let address: AttemptAddress
      switch (
        p.optionalString("attemptId"), p.optionalString("learnerId"), p.optionalString("courseId"),
        p.optionalString("examId")
      )
      {
      case (let id?, nil, nil, nil): address = .id(id)
      case (nil, let l?, let course?, let exam?):
        address = .current(learnerId: l, courseId: course, examId: exam)
      default:
        throw CreditError.invalidParams(
          "Name the attempt either by attemptId alone, or by learnerId, courseId and examId together.",
          field: p.has("attemptId") ? "attemptId" : "learnerId", reason: "ambiguous_address")
      }
      return try c.service.reviewExam(
        address, review: ExamReview(rawValue: p.string("review"))!, comment: p.optionalString("comment"))
    },
    MethodDefinition(
      "grantExamTime",
      "Sets the learner's total extra minutes for an exam (not additive) and moves an attempt in progress.",
      access: .staffOnly, mutates: true,
      params: [
        learnerIdParam, courseIdParam, examIdParam, Field("extraMinutes", .integer(min: 0, max: 100_000)),
      ],
      resultName: "ExamTimeGrant",
      result: .object(
        ObjectSchema(
          "ExamTimeGrant",
          [learnerIdParam, courseIdParam, examIdParam, Field("extraMinutes", .integer(min: 0))]))
    ) { p, c in
      let (l, course, e, extra) = (
        p.string("learnerId"), p.string("courseId"), p.string("examId"), p.int("extraMinutes")
      )
      try c.service.grantExamTime(learnerId: l, courseId: course, examId: e, extraMinutes: extra)
      return [
        "learnerId": .string(l), "courseId": .string(course), "examId": .string(e),
        "extraMinutes": .number(JSONNumber(extra)),
      ]
    },
    .method(
      "resetExamAttempt", "Lets the learner take an exam again (its score is cleared).", access: .staffOnly,
      mutates: true, params: [learnerIdParam, courseIdParam, examIdParam], result: CreditStatus.self
    ) { p, c in
      try c.service.resetExamAttempt(
        learnerId: p.string("learnerId"), courseId: p.string("courseId"), examId: p.string("examId"))
    },
  ]
}
