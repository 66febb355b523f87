import PostgreSQL
import Testing

import enum CreditCore.LockKey
import struct CreditCore.StoreError
import class CreditStore.PostgreSQLConnection
import enum CreditStore.PostgreSQLMigrations
import enum CreditStore.PostgreSQLOpener

/// CreditStore's PostgreSQL engine: the opener's migrations, sequences, and the advisory locks a
/// writing group takes (which groups wait for which).
@Suite struct StoreEngineTests {
  static func uri(_ schema: TestSchema) throws -> String {
    try TestServer.url() + "?options=-csearch_path%3D" + schema.name
  }

  @Test func migratesOnceAndFindsTheSchemaCurrentAfterwards() throws {
    let schema = try TestSchema()
    _ = try PostgreSQLOpener.open(uri: Self.uri(schema), now: 0)
    let db = try PostgreSQLOpener.open(uri: Self.uri(schema), now: 0)
    let versions = try db.query("SELECT version FROM schema_migrations ORDER BY version") { $0.int(0) }
    #expect(versions == PostgreSQLMigrations.all.map(\.version))
  }

  @Test func sequencesCountFromOnePerName() throws {
    let schema = try TestSchema()
    let c = PostgreSQLConnection(try PostgreSQLOpener.open(uri: Self.uri(schema), now: 0))
    #expect(try c.nextSequenceValue("order") == 1)
    #expect(try c.nextSequenceValue("order") == 2)
    #expect(try c.nextSequenceValue("attempt") == 1)
  }

  @Test func writersOfOtherLearnersDoNotWaitAndTheSameLearnerOrItsCourseDoes() throws {
    let schema = try TestSchema()
    let uri = try Self.uri(schema)
    func connection() throws -> PostgreSQLConnection {
      let c = PostgreSQLConnection(try PostgreSQLOpener.open(uri: uri, now: 0))
      c.lockTimeoutMs = 100
      return c
    }
    let holder = try connection()
    try holder.begin(writing: true, lockKeys: [.enrollment(learnerId: "ann", courseId: "c1")])
    defer { holder.rollback() }
    func waits(_ keys: [LockKey]) throws -> Bool {
      let c = try connection()
      do {
        try c.begin(writing: true, lockKeys: keys)
        c.rollback()
        return false
      } catch let e as StoreError {
        #expect(e.kind == .busy)
        return true
      }
    }
    #expect(try !waits([.enrollment(learnerId: "bob", courseId: "c1")]))
    #expect(try !waits([.learner("bob"), .course("c2")]))
    #expect(try waits([.learner("ann")]))
    #expect(try waits([.enrollment(learnerId: "ann", courseId: "c2")]))
    #expect(try waits([.course("c1")]))
    #expect(try waits([.everything]))
    // Reading groups take no lock.
    let reader = try connection()
    try reader.begin(writing: false, lockKeys: [])
    reader.rollback()
  }
}
