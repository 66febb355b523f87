import CreditCore

// Column lists and row readers, kept beside each other so that they cannot drift. A row that
// cannot be read as what it should be (an unknown enum text) is an error, never a default.

enum Rows {
  static let course = """
    course_id, org, number, run, title, starts_at, ends_at, passing_grade, verified_price_cents,
    verified_currency, purchase_window_days,
    (EXISTS (SELECT 1 FROM offers o JOIN providers p ON p.provider_id = o.provider_id
        WHERE o.course_id = courses.course_id AND o.active = 1 AND p.active = 1)
      AND EXISTS (SELECT 1 FROM requirements r WHERE r.course_id = courses.course_id))
    """
  static func course(_ s: any Row) -> Course {
    Course(
      courseId: s.text(0), org: s.text(1), number: s.text(2), run: s.text(3), title: s.text(4),
      startsAt: s.int64(5), endsAt: s.int64(6), passingGrade: s.double(7),
      verifiedPrice: s.isNull(8) ? nil : Money(cents: s.int64(8), currency: s.text(9)),
      purchaseWindowDays: s.int64(10), earnCredit: s.bool(11))
  }

  static let provider = """
    provider_id, display_name, url, status_url, description, fulfillment_instructions,
    requires_additional_steps, active
    """
  static func provider(_ s: any Row) -> Provider {
    Provider(
      providerId: s.text(0), displayName: s.text(1), url: s.text(2), statusUrl: s.optionalText(3),
      description: s.optionalText(4), fulfillmentInstructions: s.optionalText(5),
      requiresAdditionalSteps: s.bool(6), active: s.bool(7))
  }

  static let offer = """
    o.course_id, o.provider_id, p.display_name, o.price_cents, o.currency,
    CASE WHEN o.active = 1 AND p.active = 1 THEN 1 ELSE 0 END
    FROM offers o JOIN providers p ON p.provider_id = o.provider_id
    """
  static func offer(_ s: any Row) -> Offer {
    Offer(
      courseId: s.text(0), providerId: s.text(1), displayName: s.text(2),
      price: Money(cents: s.int64(3), currency: s.text(4)), active: s.bool(5))
  }

  static let exam = "course_id, exam_id, display_name, time_limit_minutes, passing_score, proctored"
  static func exam(_ s: any Row) -> Exam {
    Exam(
      courseId: s.text(0), examId: s.text(1), displayName: s.text(2), timeLimitMinutes: s.int64(3),
      passingScore: s.double(4), proctored: s.bool(5))
  }

  static let requirement = "requirement_id, kind, display_name, position, min_grade, exam_id, checkpoint_id"
  static func requirement(_ s: any Row, from c: Int32 = 0) throws -> Requirement {
    Requirement(
      requirementId: s.text(c), kind: try s.value(c + 1), displayName: s.text(c + 2),
      order: s.int(c + 3), minGrade: s.optionalDouble(c + 4), examId: s.optionalText(c + 5),
      checkpointId: s.optionalText(c + 6))
  }

  static let learner = "learner_id, full_name, email, country, mailing_address"
  static func learner(_ s: any Row) -> Learner {
    Learner(
      learnerId: s.text(0), fullName: s.text(1), email: s.text(2), country: s.text(3),
      mailingAddress: s.optionalText(4))
  }

  static let verification = """
    verification_id, learner_id, kind, course_id, checkpoint_id, status, submitted_at, reviewed_at,
    expires_at, reason
    """
  static func verification(_ s: any Row) throws -> Verification {
    Verification(
      verificationId: s.text(0), learnerId: s.text(1), kind: try s.value(2),
      courseId: s.optionalText(3), checkpointId: s.optionalText(4),
      status: try s.value(5), submittedAt: s.int64(6),
      reviewedAt: s.optionalInt64(7), expiresAt: s.optionalInt64(8), reason: s.optionalText(9))
  }

  static let attempt = """
    a.attempt_id, a.learner_id, a.course_id, a.exam_id, a.proctored, a.status, a.started_at, a.deadline,
    a.submitted_at, a.timed_out, sc.score, a.review, a.review_comment
    FROM exam_attempts a LEFT JOIN exam_scores sc
      ON sc.learner_id = a.learner_id AND sc.course_id = a.course_id AND sc.exam_id = a.exam_id
    """
  static func attempt(_ s: any Row) throws -> ExamAttempt {
    ExamAttempt(
      attemptId: s.text(0), learnerId: s.text(1), courseId: s.text(2), examId: s.text(3),
      proctored: s.bool(4), status: try s.value(5), startedAt: s.int64(6), deadline: s.int64(7),
      submittedAt: s.optionalInt64(8), timedOut: s.bool(9), score: s.optionalDouble(10),
      review: try s.optionalValue(11), reviewComment: s.optionalText(12))
  }

  static let request = """
    r.request_id, r.learner_id, r.course_id, r.provider_id, p.display_name, r.status, r.created_at,
    r.decided_at, p.url, p.status_url, p.description
    FROM credit_requests r JOIN providers p ON p.provider_id = r.provider_id
    """
  static func request(_ s: any Row) throws -> CreditRequest {
    CreditRequest(
      requestId: s.text(0), learnerId: s.text(1), courseId: s.text(2), providerId: s.text(3),
      providerName: s.text(4), status: try s.value(5),
      createdAt: s.int64(6), decidedAt: s.optionalInt64(7), providerUrl: s.text(8),
      providerStatusUrl: s.optionalText(9), providerDescription: s.optionalText(10))
  }

  static let notification = "notification_id, learner_id, kind, to_address, subject, body, created_at"
  static func notification(_ s: any Row) throws -> Notification {
    Notification(
      notificationId: s.int64(0), learnerId: s.text(1), kind: try s.value(2),
      to: s.text(3), subject: s.text(4), body: s.text(5), createdAt: s.int64(6))
  }

  static let event = "event_id, at, actor, kind, requirement_id, from_value, to_value, detail"
  static func event(_ s: any Row) -> Event {
    Event(
      eventId: s.int64(0), at: s.int64(1), actor: s.text(2), kind: s.text(3),
      requirementId: s.optionalText(4),
      from: s.optionalText(5), to: s.optionalText(6), detail: s.optionalText(7))
  }
}

/// The store's SQL that is assembled from the column lists above, as constants (see each file).
enum SQLText {}
