import CreditCore

// The operators' side (SPEC section 8): providers' queues, provider and offer changes, the outbox's
// delivery marks, course reports and the change feed.
extension SQLStore {
  public func updateProvider(_ p: Provider, secrets: [String]?) throws {
    try flush()
    try connection.run(
      """
      UPDATE providers SET display_name = ?, url = ?, status_url = ?, description = ?,
        fulfillment_instructions = ?, requires_additional_steps = ?, active = ?
      WHERE provider_id = ?
      """,
      [
        .text(p.displayName), .text(p.url), .optional(p.statusUrl), .optional(p.description),
        .optional(p.fulfillmentInstructions), .bool(p.requiresAdditionalSteps), .bool(p.active),
        .text(p.providerId),
      ])
    if let secrets {
      try connection.run("DELETE FROM provider_secrets WHERE provider_id = ?", [.text(p.providerId)])
      try insertSecrets(p.providerId, secrets)
    }
  }

  public func storeOffer(_ o: Offer) throws {
    try flush()
    try connection.run(
      "UPDATE offers SET price_cents = ?, currency = ?, active = ? WHERE course_id = ? AND provider_id = ?",
      [.int(o.price.cents), .text(o.price.currency), .bool(o.active), .text(o.courseId), .text(o.providerId)])
  }

  public func creditRequests(_ filter: CreditRequestFilter, afterSeq: Int64, limit: Int) throws
    -> [(seq: Int64, listing: CreditRequestListing)]
  {
    try flush()
    // One statement text per combination of filters, so that each uses the index of its filter.
    var conditions = ["r.seq > ?"]
    var values: [DBValue] = [.int(afterSeq)]
    if let providerId = filter.providerId {
      conditions.append("r.provider_id = ?")
      values.append(.text(providerId))
    }
    if let courseId = filter.courseId {
      conditions.append("r.course_id = ?")
      values.append(.text(courseId))
    }
    if let status = filter.status {
      conditions.append("r.status = ?")
      values.append(.text(status.rawValue))
    }
    values.append(.int(limit))
    return try connection.all(
      """
      SELECT r.request_id, r.learner_id, r.course_id, r.provider_id, p.display_name, r.status, r.created_at,
        r.decided_at, p.url, p.status_url, p.description,
        r.seq, l.full_name, l.email, l.country, l.mailing_address, e.credit_grade, e.course_grade,
        EXISTS (SELECT 1 FROM requirements q WHERE q.course_id = r.course_id AND q.kind = 'grade')
      FROM credit_requests r JOIN providers p ON p.provider_id = r.provider_id
      JOIN learners l ON l.learner_id = r.learner_id
      JOIN enrollments e ON e.learner_id = r.learner_id AND e.course_id = r.course_id
      WHERE \(conditions.joined(separator: " AND ")) ORDER BY r.seq LIMIT ?
      """, values
    ) { s in
      let request = try Rows.request(s)  // the same first 11 columns
      let learner = Learner(
        learnerId: request.learnerId, fullName: s.text(12), email: s.text(13), country: s.text(14),
        mailingAddress: s.optionalText(15))
      let grade = s.bool(18) ? s.optionalDouble(16) : s.optionalDouble(17)
      return (
        s.int64(11),
        CreditRequestListing(
          request: request, learner: learner, finalGrade: grade.map(Rules.formatGrade) ?? "")
      )
    }
  }

  public func enrolledLearners(
    courseId: String, storedEligibility: [Eligibility], afterLearnerId: String, limit: Int
  ) throws -> [String] {
    try flush()
    if storedEligibility.isEmpty {
      return try connection.all(
        """
        SELECT e.learner_id FROM enrollments e WHERE e.course_id = ? AND e.learner_id > ?
        ORDER BY e.learner_id LIMIT ?
        """, [.text(courseId), .text(afterLearnerId), .int(limit)]
      ) { $0.text(0) }
    }
    let values = storedEligibility.map { DBValue.text($0.rawValue) }
    return try connection.all(
      """
      SELECT e.learner_id FROM enrollments e
      WHERE e.course_id = ? AND e.eligibility IN (?, ?) AND e.learner_id > ?
      ORDER BY e.learner_id LIMIT ?
      """, [.text(courseId), values[0], values[values.count - 1], .text(afterLearnerId), .int(limit)]
    ) { $0.text(0) }
  }

  public func outbox(afterId: Int64, limit: Int, unsentOnly: Bool) throws -> [OutboxEntry] {
    try flush()
    let sql =
      unsentOnly
      ? """
      SELECT \(Rows.notification), sent_at FROM notifications
      WHERE sent_at IS NULL AND notification_id > ? ORDER BY notification_id LIMIT ?
      """
      : """
      SELECT \(Rows.notification), sent_at FROM notifications
      WHERE notification_id > ? ORDER BY notification_id LIMIT ?
      """
    return try connection.all(sql, [.int(afterId), .int(limit)]) { s in
      OutboxEntry(notification: try Rows.notification(s), sentAt: s.optionalInt64(7))
    }
  }

  public func notificationIsSent(_ notificationId: Int64) throws -> Bool? {
    try flush()
    return try connection.one(
      "SELECT sent_at FROM notifications WHERE notification_id = ?", [.int(notificationId)]
    ) { !$0.isNull(0) }
  }

  public func markSent(_ notificationId: Int64, at: Instant) throws {
    try flush()
    try connection.run(
      "UPDATE notifications SET sent_at = ? WHERE notification_id = ? AND sent_at IS NULL",
      [.int(at), .int(notificationId)])
  }

  public func feed(afterEventId: Int64?, limit: Int) throws -> [FeedEvent] {
    try flush()
    let columns =
      "e.event_id, e.at, e.actor, e.kind, e.requirement_id, e.from_value, e.to_value, e.detail, "
      + "e.learner_id, e.course_id"
    func read(_ s: any Row) -> FeedEvent {
      FeedEvent(event: Rows.event(s), learnerId: s.text(8), courseId: s.optionalText(9))
    }
    guard connection.commitsOutOfIdOrder else {
      // Writers commit one at a time: id order is commit order.
      return try connection.all(
        "SELECT \(columns) FROM events e WHERE e.event_id > ? ORDER BY e.event_id LIMIT ?",
        [.int(afterEventId ?? 0), .int(limit)], read)
    }
    // Ordered by the writing transaction, then id, and only transactions older than every one
    // still running: a transaction that took a lower id and commits later then never falls behind
    // an event already listed. The event named by the cursor gives the position to go on from.
    // (The group's own writes count when no older transaction is still running.)
    let committed = """
      (e.txid < pg_snapshot_xmin(pg_current_snapshot())
        OR (e.txid = pg_current_xact_id_if_assigned() AND e.txid = pg_snapshot_xmin(pg_current_snapshot())))
      """
    guard let afterEventId else {
      return try connection.all(
        "SELECT \(columns) FROM events e WHERE \(committed) ORDER BY e.txid, e.event_id LIMIT ?",
        [.int(limit)], read)
    }
    // Where the cursor's event stands (it was listed, so it is committed); then one range of the
    // index on (txid, event_id) from there.
    guard
      let txid = try connection.one(
        "SELECT CAST(txid AS TEXT) FROM events WHERE event_id = ?", [.int(afterEventId)], { $0.text(0) })
    else { return [] }
    return try connection.all(
      """
      SELECT \(columns) FROM events e
      WHERE (e.txid, e.event_id) > (CAST(? AS xid8), ?) AND \(committed)
      ORDER BY e.txid, e.event_id LIMIT ?
      """, [.text(txid), .int(afterEventId), .int(limit)], read)
  }

}
