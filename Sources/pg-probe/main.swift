// Drives the PostgreSQL module from outside, for the failover tests (Tests/python/test_pg_failover.py)
// and Benchmarks/postgresql.md. Never for production use.
//
//   pg-probe serve URI   reads commands on stdin, answers one line each on stdout:
//                          setup       -> "ok" (creates table acks)
//                          commit N    -> "ok N" once COMMIT is acknowledged, else "error KIND N SQLSTATE"
//                          pid         -> the backend's process id
//   pg-probe bench URI   prints the measurements of Benchmarks/postgresql.md
import Foundation
import PostgreSQL

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

func say(_ line: String) {
  print(line)
  fflush(nil)
}

func serve(_ uri: String) {
  var db: Connection?
  while let line = readLine() {
    let words = line.split(separator: " ")
    guard let command = words.first else { continue }
    do {
      if db == nil { db = try Connection(uri, parameters: ["application_name": "pg-probe"]) }
      let c = db!
      switch command {
      case "setup":
        try c.execute("CREATE TABLE IF NOT EXISTS acks (id BIGINT PRIMARY KEY, at DOUBLE PRECISION NOT NULL)")
        say("ok")
      case "commit":
        let id = Int64(words.count > 1 ? words[1] : "0") ?? 0
        do {
          try c.begin()
          try c.run(
            "INSERT INTO acks (id, at) VALUES (?, ?)", [.int(id), .double(Date().timeIntervalSince1970)])
          try c.commit()
          say("ok \(id)")
        } catch {
          c.rollback()
          say("error \(error.kind.rawValue) \(id) \(error.sqlState ?? "-")")
          FileHandle.standardError.write(Data("pg-probe: \(error)\n".utf8))
        }
      case "pid":
        say("\(c.backendPID)")
      case "quit":
        return
      default:
        say("error unknown-command")
      }
    } catch {
      let id = words.count > 1 ? String(words[1]) : "-"
      say("error \(error.kind.rawValue) \(id) \(error.sqlState ?? "-")")
      FileHandle.standardError.write(Data("pg-probe: \(error)\n".utf8))
    }
  }
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  try body()
  return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func bench(_ uri: String) throws {
  let c = try Connection(uri)
  try c.execute(
    "DROP TABLE IF EXISTS bench; CREATE TABLE bench (id BIGINT PRIMARY KEY, learner TEXT COLLATE \"C\" NOT NULL, n BIGINT NOT NULL)"
  )
  var next: Int64 = 0
  func id() -> Int64 {
    next += 1
    return next
  }
  let insert = "INSERT INTO bench (id, learner, n) VALUES (?, ?, ?)"

  let trips = 5000
  _ = try c.scalarInt("SELECT CAST(? AS bigint)", [.int(0)])
  let rt = try seconds { for k in 0..<trips { _ = try c.scalarInt("SELECT CAST(? AS bigint)", [.int(k)]) } }
  say("prepared statement round trip (SELECT ?): \(String(format: "%.1f", rt / Double(trips) * 1e6)) µs")

  let singles = 500
  let auto = try seconds { for _ in 0..<singles { try c.run(insert, [.int(id()), .text("ada"), .int(1)]) } }
  say("single-row autocommit INSERT: \(Int(Double(singles) / auto)) commits/s")
  let txn = try seconds {
    for _ in 0..<singles {
      try c.begin()
      try c.run(insert, [.int(id()), .text("ada"), .int(1)])
      try c.commit()
    }
  }
  say("single-row BEGIN/INSERT/COMMIT: \(Int(Double(singles) / txn)) commits/s")

  let groups = 40
  let group = try seconds {
    for _ in 0..<groups {
      try c.begin()
      for _ in 0..<50 {
        try c.savepoint("r")
        try c.run(insert, [.int(id()), .text("ada"), .int(1)])
        try c.release("r")
      }
      try c.commit()
    }
  }
  say(
    "groups of 50 (SAVEPOINT/INSERT/RELEASE each, one COMMIT): \(Int(Double(groups * 50) / group)) requests/s"
  )
  let groupPipelined = try seconds {
    for _ in 0..<groups {
      try c.begin()
      for _ in 0..<50 {
        try c.runPipelined([
          ("SAVEPOINT r", []), (insert, [.int(id()), .text("ada"), .int(1)]), ("RELEASE SAVEPOINT r", []),
        ])
      }
      try c.commit()
    }
  }
  say(
    "groups of 50, each request's 3 statements pipelined: \(Int(Double(groups * 50) / groupPipelined)) requests/s"
  )

  let batches = 500
  let five = { () -> [(sql: String, values: [Value])] in
    (0..<5).map { _ in (insert, [.int(id()), .text("ada"), .int(1)]) }
  }
  try c.begin()
  let sequential = try seconds {
    for _ in 0..<batches { for (sql, values) in five() { try c.run(sql, values) } }
  }
  let pipelined = try seconds { for _ in 0..<batches { try c.runPipelined(five()) } }
  try c.commit()
  say(
    "5 independent INSERTs in a transaction: one by one \(String(format: "%.1f", sequential / Double(batches) * 1e6)) µs, pipelined \(String(format: "%.1f", pipelined / Double(batches) * 1e6)) µs"
  )
  try c.execute("DROP TABLE bench")
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
  FileHandle.standardError.write(Data("usage: pg-probe serve|bench URI\n".utf8))
  exit(2)
}
switch arguments[1] {
case "serve": serve(arguments[2])
case "bench":
  do { try bench(arguments[2]) } catch {
    FileHandle.standardError.write(Data("pg-probe: \(error)\n".utf8))
    exit(1)
  }
default: exit(2)
}
