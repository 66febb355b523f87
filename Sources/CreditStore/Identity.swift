import CreditCore

// Learners and identity verifications.
extension SQLStore {
  public func learner(_ learnerId: String) throws -> Learner? {
    if let l = learners[learnerId] { return l }
    try flush()
    let l = try connection.one(
      SQLText.learnerById, [.text(learnerId)], Rows.learner)
    if let l { remember(l) }
    return l
  }

  func remember(_ l: Learner) {
    if learners.count >= cacheLimit { learners.removeAll(keepingCapacity: true) }
    learners[l.learnerId] = l
  }

  public func insertLearner(_ l: Learner, createdAt: Instant) throws {
    try flush()
    try connection.run(
      "INSERT INTO learners (learner_id, full_name, email, country, mailing_address, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      [
        .text(l.learnerId), .text(l.fullName), .text(l.email), .text(l.country), .optional(l.mailingAddress),
        .int(createdAt),
      ])
    remember(l)
  }

  public func verification(_ verificationId: String) throws -> Verification? {
    try flush()
    return try connection.one(
      SQLText.verificationById, [.text(verificationId)],
      Rows.verification)
  }

  public func latestInitialVerification(learnerId: String, approvedOnly: Bool) throws -> Verification? {
    try flush()
    return try latest(
      approvedOnly
        ? SQLText.approvedInitials
        : SQLText.initials,
      [.text(learnerId)])
  }

  public func latestReverification(learnerId: String, courseId: String, checkpointId: String) throws
    -> Verification?
  {
    try flush()
    return try latest(
      SQLText.reverifications, [.text(learnerId), .text(courseId), .text(checkpointId)])
  }

  /// The verification with the highest `seq` (a learner has few: picked here, not by a sorter).
  private func latest(_ sql: String, _ values: [DBValue]) throws -> Verification? {
    var best: (Int64, Verification)?
    try connection.query(sql, values) { s in
      let seq = s.int64(10)
      if best == nil || seq > best!.0 { best = (seq, try Rows.verification(s)) }
    }
    return best?.1
  }

  public func insertVerification(_ v: Verification, images: VerificationImages, seq: Int64) throws {
    try flush()
    try connection.run(
      """
      INSERT INTO verifications (verification_id, learner_id, kind, course_id, checkpoint_id, status, submitted_at,
        photo_id_sha256, photo_id_bytes, face_sha256, face_bytes, seq)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [
        .text(v.verificationId), .text(v.learnerId), .text(v.kind.rawValue), .optional(v.courseId),
        .optional(v.checkpointId), .text(v.status.rawValue), .int(v.submittedAt),
        .optional(images.photoId?.sha256), .optional(images.photoId.map { Int64($0.bytes) }),
        .text(images.face.sha256), .int(images.face.bytes), .int(seq),
      ])
  }

  public func updateVerification(_ v: Verification) throws {
    try flush()
    try connection.run(
      "UPDATE verifications SET status = ?, reviewed_at = ?, expires_at = ?, reason = ? WHERE verification_id = ?",
      [
        .text(v.status.rawValue), .optional(v.reviewedAt), .optional(v.expiresAt), .optional(v.reason),
        .text(v.verificationId),
      ])
  }
}

/// Statements built once (an interpolated literal would be built again on every call).
extension SQLText {
  static let learnerById = "SELECT \(Rows.learner) FROM learners WHERE learner_id = ?"
  static let verificationById = "SELECT \(Rows.verification) FROM verifications WHERE verification_id = ?"
  static let approvedInitials = """
    SELECT \(Rows.verification), seq FROM verifications
    WHERE learner_id = ? AND kind = 'initial' AND status = 'approved'
    """
  static let initials =
    "SELECT \(Rows.verification), seq FROM verifications WHERE learner_id = ? AND kind = 'initial'"
  static let reverifications = """
    SELECT \(Rows.verification), seq FROM verifications
    WHERE learner_id = ? AND kind = 'reverification' AND course_id = ? AND checkpoint_id = ?
    """
}
