import CreditCore

// The history (append-only events), the outbox of emails, and the counters behind ids.
extension SQLStore {
  public func appendEvent(_ e: EventRecord) throws { queue(e) }

  public func appendNotification(_ n: NotificationRecord) throws { queue(n) }

  func writeEvents(_ events: [EventRecord]) throws {
    let sql = multiRow(
      "events",
      "INSERT INTO events (learner_id, course_id, at, actor, kind, requirement_id, from_value, to_value, detail)",
      columns: 9, rows: events.count)
    var values: [DBValue] = []
    values.reserveCapacity(events.count * 9)
    for e in events {
      values += [
        .text(e.learnerId), .optional(e.courseId), .int(e.at), .text(e.actor), .text(e.kind),
        .optional(e.requirementId), .optional(e.from), .optional(e.to), .optional(e.detail),
      ]
    }
    try connection.run(sql, values)
  }

  func writeNotifications(_ notifications: [NotificationRecord]) throws {
    let sql = multiRow(
      "notifications",
      "INSERT INTO notifications (learner_id, course_id, kind, to_address, subject, body, created_at)",
      columns: 7, rows: notifications.count)
    var values: [DBValue] = []
    for n in notifications {
      values += [
        .text(n.learnerId), .optional(n.courseId), .text(n.kind.rawValue), .text(n.to), .text(n.subject),
        .text(n.body), .int(n.createdAt),
      ]
    }
    try connection.run(sql, values)
  }

  public func events(learnerId: String, courseId: String) throws -> [Event] {
    try flush()
    return try connection.all(
      SQLText.eventsOfLearner, [.text(learnerId), .text(courseId)], Rows.event)
  }

  public func notifications(learnerId: String, afterId: Int64) throws -> [Notification] {
    try flush()
    return try connection.all(
      SQLText.notificationsAfter, [.text(learnerId), .int(afterId)], Rows.notification)
  }

  public func nextSequence(_ name: String) throws -> Int64 {
    try flush()
    return try connection.one(
      """
      INSERT INTO counters (name, value) VALUES (?, 1)
      ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value
      """, [.text(name)]
    ) { $0.int64(0) } ?? 1
  }
}

/// Statements built once (an interpolated literal would be built again on every call).
extension SQLText {
  static let eventsOfLearner = """
    SELECT \(Rows.event) FROM events WHERE learner_id = ? AND (course_id = ? OR course_id IS NULL)
    ORDER BY event_id
    """
  static let notificationsAfter = """
    SELECT \(Rows.notification) FROM notifications WHERE learner_id = ? AND notification_id > ?
    ORDER BY notification_id LIMIT 1000
    """
}
