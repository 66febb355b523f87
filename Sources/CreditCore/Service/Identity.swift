import CreditCrypto

/// How a review names the verification it decides.
public enum VerificationAddress: Sendable {
  case id(String)
  /// The learner's pending initial verification.
  case initial(learnerId: String)
  /// The learner's pending reverification at a checkpoint.
  case checkpoint(learnerId: String, courseId: String, checkpointId: String)
}

extension CreditService {
  /// SHA-256 (hex) and size of a base64 image; the bytes themselves are never kept.
  func imageDigest(_ base64: String, field: String) throws -> (String, Int) {
    do {
      let (digest, count) = try Base64.digest(base64, maxDecodedBytes: maxImageBytes)
      guard count > 0 else { throw Self.emptyImage(field) }
      return (Hex.encode(digest), count)
    } catch let e as Base64.DecodeError {
      throw Self.imageError(e, field: field)
    }
  }

  /// Checks that `base64` is a valid, non-empty image of at most `maxImageBytes` decoded bytes,
  /// without looking at any stored state: a malformed image is -32602 before any state check.
  public func checkImage(_ base64: String, field: String) throws {
    do {
      guard try Base64.decode(base64, maxDecodedBytes: maxImageBytes).count > 0 else {
        throw Self.emptyImage(field)
      }
    } catch let e as Base64.DecodeError {
      throw Self.imageError(e, field: field)
    }
  }

  static func emptyImage(_ field: String) -> CreditError {
    CreditError.invalidParams(
      "\(field) is empty; send the image, base64-encoded.", field: field, reason: "empty_image")
  }

  static func imageError(_ e: Base64.DecodeError, field: String) -> CreditError {
    switch e {
    case .tooLarge(let limit):
      CreditError.invalidParams(
        "\(field) is larger than \(limit) bytes once decoded; send a smaller image.", field: field,
        reason: "image_too_large")
    default:
      CreditError.invalidParams(
        "\(field) is not valid base64 (standard alphabet, optional = padding, no spaces or line breaks).",
        field: field, reason: "invalid_base64")
    }
  }

  func verification(_ id: String) throws -> Verification {
    guard let v = try store.verification(id) else {
      throw CreditError.notFound("verification", id, field: "verificationId")
    }
    return v
  }

  // MARK: Initial verification

  public func verifyIdentity(learnerId: String, photoIdImage: String, faceImage: String) throws
    -> Verification
  {
    _ = try learner(learnerId)
    if let latest = try store.latestInitialVerification(learnerId: learnerId, approvedOnly: false) {
      if latest.status == .submitted {
        throw CreditError.invalidState(
          "An identity verification is already waiting for review (\(latest.verificationId)).",
          reason: "verification_pending")
      }
      if Rules.isValidApproval(latest, now: now) {
        throw CreditError.invalidState(
          "The learner's identity is already verified until \(RFC3339.format(latest.expiresAt ?? now)).",
          reason: "already_verified")
      }
    }
    let (idDigest, idBytes) = try imageDigest(photoIdImage, field: "photoIdImage")
    let (faceDigest, faceBytes) = try imageDigest(faceImage, field: "faceImage")
    let seq = try store.nextSequence("verification")
    let v = Verification(
      verificationId: "ver_\(seq)", learnerId: learnerId, kind: .initial, courseId: nil, checkpointId: nil,
      status: .submitted, submittedAt: now, reviewedAt: nil, expiresAt: nil, reason: nil)
    try store.insertVerification(
      v, images: VerificationImages(photoId: (idDigest, idBytes), face: (faceDigest, faceBytes)), seq: seq)
    try recordEvent(
      learnerId: learnerId, courseId: nil, kind: "verificationSubmitted", to: "submitted",
      detail: v.verificationId)
    return v
  }

  public func reviewVerification(_ address: VerificationAddress, approved: Bool, reason: String?) throws
    -> Verification
  {
    var v: Verification
    switch address {
    case .id(let id):
      v = try verification(id)
    case .initial(let learnerId):
      _ = try learner(learnerId)
      guard let latest = try store.latestInitialVerification(learnerId: learnerId, approvedOnly: false) else {
        throw CreditError(
          .notFound, "Learner '\(learnerId)' has not submitted an identity verification.",
          reason: "verification_not_found", field: "learnerId")
      }
      v = latest
    case .checkpoint(let learnerId, let courseId, let checkpointId):
      _ = try learner(learnerId)
      _ = try course(courseId)
      guard
        let latest = try store.latestReverification(
          learnerId: learnerId, courseId: courseId, checkpointId: checkpointId)
      else {
        throw CreditError(
          .notFound,
          "Learner '\(learnerId)' has no reverification at checkpoint '\(checkpointId)' in \(courseId).",
          reason: "verification_not_found", field: "checkpointId")
      }
      v = latest
    }
    let decision: VerificationStatus = approved ? .approved : .denied
    if v.status != .submitted {
      if v.status == decision { return v }
      throw CreditError.invalidState(
        "Verification \(v.verificationId) was already \(v.status.rawValue); it cannot be \(decision.rawValue) now.",
        reason: "already_reviewed")
    }
    let settled = try v.courseId.map { try settle(v.learnerId, $0) }
    v.status = decision
    v.reviewedAt = now
    v.expiresAt = (v.kind == .initial && approved) ? now + Rules.verificationValidity : nil
    v.reason = reason
    try store.updateVerification(v)
    try recordEvent(
      learnerId: v.learnerId, courseId: v.courseId, kind: "verificationReviewed",
      requirementId: v.checkpointId.map { "reverification:\($0)" }, from: "submitted", to: decision.rawValue,
      detail: v.verificationId)
    if var s = settled {
      if let i = s.verifications.firstIndex(where: { $0.verificationId == v.verificationId }) {
        s.verifications[i] = v
      }
      try sync(&s)
    }
    return v
  }

  // MARK: Reverification

  public func reverify(learnerId: String, courseId: String, checkpointId: String, faceImage: String) throws
    -> Verification
  {
    var s = try settle(learnerId, courseId)
    let rid = Requirement.id(kind: .reverification, checkpointId: checkpointId)
    guard s.requirements.contains(where: { $0.requirementId == rid }) else {
      throw CreditError(
        .notFound, "Course \(courseId) has no identity checkpoint '\(checkpointId)'.",
        reason: "checkpoint_not_found",
        field: "checkpointId")
    }
    guard !s.frozen else {
      throw CreditError.invalidState(
        "Credit was already purchased for \(courseId); requirements can no longer change.",
        reason: "credit_requested")
    }
    let status = try evaluate(s).states.first { $0.requirement.requirementId == rid }?.status ?? .pending
    switch status {
    case .declined:
      throw CreditError.invalidState(
        "This identity check was declined; declining is final.", reason: "declined")
    case .satisfied:
      throw CreditError.invalidState("This identity check is already satisfied.", reason: "already_satisfied")
    case .submitted:
      throw CreditError.invalidState(
        "A photo for this identity check is already waiting for review.", reason: "verification_pending")
    case .pending, .failed:
      break
    }
    guard now <= s.course.endsAt else {
      throw CreditError(
        .deadlinePassed, "\(courseId) has ended; identity checks can no longer be retried.",
        reason: "course_ended",
        field: "courseId")
    }
    guard let initial = s.latestApprovedInitial, Rules.isValidApproval(initial, now: now) else {
      throw CreditError.invalidState(
        "Reverification needs an approved initial identity verification; call verifyIdentity first.",
        reason: "verification_required")
    }
    let (faceDigest, faceBytes) = try imageDigest(faceImage, field: "faceImage")
    let seq = try store.nextSequence("verification")
    let v = Verification(
      verificationId: "ver_\(seq)", learnerId: learnerId, kind: .reverification, courseId: courseId,
      checkpointId: checkpointId, status: .submitted, submittedAt: now, reviewedAt: nil, expiresAt: nil,
      reason: nil)
    try store.insertVerification(
      v, images: VerificationImages(photoId: nil, face: (faceDigest, faceBytes)), seq: seq)
    try recordEvent(
      learnerId: learnerId, courseId: courseId, kind: "verificationSubmitted", requirementId: rid,
      to: "submitted",
      detail: v.verificationId)
    s.verifications.append(v)
    try sync(&s)
    return v
  }
}
