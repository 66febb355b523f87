import CreditCore
import Testing

/// The identity and exam state machines through the service: each legal transition, and each
/// illegal one refused with invalidState (issue 4).
extension World {
  static let examId = "final"
  static let checkpoint = "midterm"
  static let face = "ZmFjZQ=="

  /// A course with a proctored exam (60 minutes, pass at 0.7) and a checkpoint as requirements,
  /// and `ada` enrolled verified; `verified` also approves her initial verification.
  static func identityWorld(verified: Bool) throws -> World {
    let world = try World()
    _ = try world.write { try $0.createCourse(World.courseInput()) }
    _ = try world.write {
      try $0.createExam(
        Exam(
          courseId: World.courseId, examId: World.examId, displayName: "Final", timeLimitMinutes: 60,
          passingScore: 0.7, proctored: true))
    }
    _ = try world.write {
      try $0.setCreditRequirements(
        courseId: World.courseId,
        [
          RequirementInput(kind: .proctoredExam, examId: World.examId),
          RequirementInput(
            kind: .reverification, checkpointId: World.checkpoint, displayName: "Midterm check"),
        ])
    }
    _ = try world.write {
      try $0.createLearner(
        Learner(learnerId: "ada", fullName: "Ada Lovelace", email: "ada@example.org", country: "GB"))
    }
    _ = try world.write { try $0.enroll(learnerId: "ada", courseId: World.courseId, mode: .verified) }
    if verified {
      _ = try world.write {
        try $0.verifyIdentity(learnerId: "ada", photoIdImage: "aWQ=", faceImage: World.face)
      }
      _ = try world.write {
        try $0.reviewVerification(.initial(learnerId: "ada"), approved: true, reason: nil)
      }
    }
    return world
  }

  func start() throws -> ExamAttempt {
    try write { try $0.startExam(learnerId: "ada", courseId: World.courseId, examId: World.examId) }
  }
  func submit() throws -> ExamAttempt {
    try write { try $0.submitExam(learnerId: "ada", courseId: World.courseId, examId: World.examId) }
  }
  func review(_ r: ExamReview) throws -> ExamAttempt {
    try write {
      try $0.reviewExam(
        .current(learnerId: "ada", courseId: World.courseId, examId: World.examId), review: r, comment: nil)
    }
  }
  func status(_ rid: String) throws -> RequirementStatus? {
    try requirements().requirements.first { $0.requirement.requirementId == rid }?.status
  }
}

private let examRid = "proctoredExam:final"
private let checkRid = "reverification:midterm"

@Suite struct ExamServiceTests {
  @Test func startingAProctoredExamNeedsAnApprovedVerification() throws {
    let world = try World.identityWorld(verified: false)
    #expect(creditError { _ = try world.start() }?.reason == "verification_required")
  }

  @Test func oneAttemptOnly() throws {
    let world = try World.identityWorld(verified: true)
    let attempt = try world.start()
    #expect(attempt.status == .started)
    #expect(attempt.deadline == World.midCourse + 3600)
    #expect(creditError { _ = try world.start() }?.kind == .invalidState)
  }

  @Test func submittingAnExamNeverStartedIsInvalidState() throws {
    let world = try World.identityWorld(verified: true)
    #expect(creditError { _ = try world.submit() }?.reason == "exam_not_started")
  }

  @Test func reviewingBeforeSubmissionIsInvalidState() throws {
    let world = try World.identityWorld(verified: true)
    _ = try world.start()
    #expect(creditError { _ = try world.review(.clean) }?.reason == "not_submitted")
  }

  @Test func aReviewIsFinalUnlessTheSessionWasNotReviewed() throws {
    let world = try World.identityWorld(verified: true)
    _ = try world.start()
    _ = try world.submit()
    #expect(try world.status(examRid) == .submitted)
    #expect(try world.review(.notReviewed).status == .error)
    #expect(try world.status(examRid) == .submitted)
    #expect(try world.review(.clean).status == .verified)
    #expect(creditError { _ = try world.review(.suspicious) }?.reason == "already_reviewed")
  }

  @Test func verifiedAndPassingScoreSatisfiesInEitherOrder() throws {
    for scoreFirst in [true, false] {
      let world = try World.identityWorld(verified: true)
      _ = try world.start()
      _ = try world.submit()
      let score = {
        _ = try world.write {
          try $0.recordGrade(learnerId: "ada", courseId: World.courseId, grade: 0.8, examId: World.examId)
        }
      }
      if scoreFirst { try score() }
      _ = try world.review(.clean)
      if !scoreFirst { try score() }
      #expect(try world.status(examRid) == .satisfied)
    }
  }

  @Test func aRejectedReviewOrALowScoreFails() throws {
    let rejected = try World.identityWorld(verified: true)
    _ = try rejected.start()
    _ = try rejected.submit()
    #expect(try rejected.review(.rulesViolation).status == .rejected)
    #expect(try rejected.status(examRid) == .failed)

    let low = try World.identityWorld(verified: true)
    _ = try low.start()
    _ = try low.submit()
    _ = try low.write {
      try $0.recordGrade(learnerId: "ada", courseId: World.courseId, grade: 0.69, examId: World.examId)
    }
    #expect(try low.status(examRid) == .failed)
  }

  @Test func pastTheDeadlineTheAttemptWasSubmittedAtItBySystem() throws {
    let world = try World.identityWorld(verified: true)
    let attempt = try world.start()
    world.clock.now = attempt.deadline + 600
    let late = try world.submit()
    #expect(late.status == .submitted)
    #expect(late.timedOut)
    #expect(late.submittedAt == attempt.deadline)
    let timedOut = try world.history().filter { $0.kind == "examTimedOut" }
    #expect(timedOut.count == 1)
    #expect(timedOut.first?.actor == "system")
    #expect(timedOut.first?.at == attempt.deadline)
    #expect(try world.review(.clean).status == .verified)
  }

  @Test func extraTimeIsATotalAndMovesAnAttemptInProgress() throws {
    let world = try World.identityWorld(verified: true)
    let attempt = try world.start()
    try world.write {
      try $0.grantExamTime(learnerId: "ada", courseId: World.courseId, examId: World.examId, extraMinutes: 30)
    }
    try world.write {
      try $0.grantExamTime(learnerId: "ada", courseId: World.courseId, examId: World.examId, extraMinutes: 10)
    }
    let current = try world.submit()
    #expect(current.deadline == attempt.startedAt + 70 * 60)
  }

  @Test func declineBeforeTheStartOnlyAndTheExamMayThenBeTakenUnproctored() throws {
    let world = try World.identityWorld(verified: false)
    let declined = try world.write {
      try $0.declineRequirement(learnerId: "ada", courseId: World.courseId, requirementId: examRid)
    }
    #expect(declined.eligibility == .ineligible)
    #expect(try world.start().proctored == false)

    let started = try World.identityWorld(verified: true)
    _ = try started.start()
    let e = creditError {
      _ = try started.write {
        try $0.declineRequirement(learnerId: "ada", courseId: World.courseId, requirementId: examRid)
      }
    }
    #expect(e?.reason == "exam_started")
  }
}

@Suite struct VerificationServiceTests {
  @Test func initialVerificationLifecycle() throws {
    let world = try World.identityWorld(verified: false)
    let submitted = try world.write {
      try $0.verifyIdentity(learnerId: "ada", photoIdImage: "aWQ=", faceImage: World.face)
    }
    #expect(submitted.status == .submitted)
    let again = creditError {
      _ = try world.write {
        try $0.verifyIdentity(learnerId: "ada", photoIdImage: "aWQ=", faceImage: World.face)
      }
    }
    #expect(again?.reason == "verification_pending")
    let denied = try world.write {
      try $0.reviewVerification(.id(submitted.verificationId), approved: false, reason: "blurry")
    }
    #expect(denied.status == .denied)
    #expect(denied.expiresAt == nil)
    let sameDecision = try world.write {
      try $0.reviewVerification(.id(submitted.verificationId), approved: false, reason: nil)
    }
    #expect(sameDecision == denied)
    let otherDecision = creditError {
      _ = try world.write {
        try $0.reviewVerification(.id(submitted.verificationId), approved: true, reason: nil)
      }
    }
    #expect(otherDecision?.reason == "already_reviewed")
    // Denied: may submit again; approved: good for 365 days, and no new submission meanwhile.
    _ = try world.write {
      try $0.verifyIdentity(learnerId: "ada", photoIdImage: "aWQ=", faceImage: World.face)
    }
    let approved = try world.write {
      try $0.reviewVerification(.initial(learnerId: "ada"), approved: true, reason: nil)
    }
    #expect(approved.expiresAt == World.midCourse + 365 * 86_400)
    let whileValid = creditError {
      _ = try world.write {
        try $0.verifyIdentity(learnerId: "ada", photoIdImage: "aWQ=", faceImage: World.face)
      }
    }
    #expect(whileValid?.reason == "already_verified")
  }

  @Test func reverificationDeniedThenApproved() throws {
    let world = try World.identityWorld(verified: true)
    let reverify = {
      try world.write {
        try $0.reverify(
          learnerId: "ada", courseId: World.courseId, checkpointId: World.checkpoint, faceImage: World.face)
      }
    }
    let address = VerificationAddress.checkpoint(
      learnerId: "ada", courseId: World.courseId, checkpointId: World.checkpoint)
    _ = try reverify()
    #expect(try world.status(checkRid) == .submitted)
    #expect(creditError { _ = try reverify() }?.reason == "verification_pending")
    _ = try world.write { try $0.reviewVerification(address, approved: false, reason: nil) }
    #expect(try world.status(checkRid) == .failed)
    _ = try reverify()
    _ = try world.write { try $0.reviewVerification(address, approved: true, reason: nil) }
    #expect(try world.status(checkRid) == .satisfied)
    #expect(creditError { _ = try reverify() }?.reason == "already_satisfied")
  }

  @Test func reverifyingADeclinedCheckpointIsInvalidState() throws {
    let world = try World.identityWorld(verified: true)
    _ = try world.write {
      try $0.declineRequirement(learnerId: "ada", courseId: World.courseId, requirementId: checkRid)
    }
    let e = creditError {
      _ = try world.write {
        try $0.reverify(
          learnerId: "ada", courseId: World.courseId, checkpointId: World.checkpoint, faceImage: World.face)
      }
    }
    #expect(e?.kind == .invalidState)
    #expect(e?.reason == "declined")
  }

  @Test func reverificationNeedsAnApprovedInitialVerification() throws {
    let world = try World.identityWorld(verified: false)
    let e = creditError {
      _ = try world.write {
        try $0.reverify(
          learnerId: "ada", courseId: World.courseId, checkpointId: World.checkpoint, faceImage: World.face)
      }
    }
    #expect(e?.reason == "verification_required")
  }
}
