import Foundation
import PostgreSQL

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The server the tests run against: `$CREDIT_RPC_TEST_PG` (a URI) when set, else a throwaway
/// cluster started once with scripts/pg-cluster and stopped when the test process exits. A test
/// that cannot get a server fails (it never skips).
enum TestServer {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

  nonisolated(unsafe) static var clusterDirectory: String?

  static let uri: Result<String, TestServerError> = {
    if let uri = ProcessInfo.processInfo.environment["CREDIT_RPC_TEST_PG"], !uri.isEmpty {
      return .success(uri)
    }
    // The cluster's servers outlive the script: its output goes to a file, not a pipe they would
    // hold open.
    var template = Array("/tmp/pg-cluster.XXXXXX".utf8CString)
    guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
      return .failure(TestServerError(message: "mkdtemp failed"))
    }
    let directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    // system(3), not Foundation's Process (whose wait hung here once the servers had started).
    let status = system("'\(repository)/scripts/pg-cluster' start --dir '\(directory)' </dev/null >/dev/null")
    var env: [String: String] = [:]
    let text = (try? String(contentsOfFile: directory + "/env", encoding: .utf8)) ?? ""
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: "=", maxSplits: 1)
      if parts.count == 2 { env[String(parts[0])] = String(parts[1]) }
    }
    guard status == 0, let uri = env["PG_PRIMARY_URI"], let dir = env["PG_CLUSTER_DIR"] else {
      return .failure(TestServerError(message: "scripts/pg-cluster start failed (\(status))"))
    }
    clusterDirectory = dir
    atexit {
      guard let dir = TestServer.clusterDirectory else { return }
      _ = system("'\(TestServer.repository)/scripts/pg-cluster' stop '\(dir)' >/dev/null 2>&1")
    }
    return .success(uri)
  }()

  static func url() throws -> String { try uri.get() }

  /// An administrator connection (the server's own database).
  static func admin() throws -> Connection { try Connection(url()) }
}

struct TestServerError: Error, CustomStringConvertible {
  let message: String
  var description: String { message }
}

/// A fresh schema for one test, dropped when the value goes away; its connections use it.
final class TestSchema {
  let name: String

  init() throws {
    name = "t_\(UInt64.random(in: 0...UInt64.max) % 1_000_000_000_000)"
    try TestServer.admin().execute("CREATE SCHEMA \(name)")
  }

  deinit { try? TestServer.admin().execute("DROP SCHEMA \(name) CASCADE") }

  /// A connection whose search path is the schema (kept across reconnects).
  func connect(_ extra: [String: String] = [:]) throws -> Connection {
    var parameters = extra
    parameters["options"] = "-c search_path=\(name)"
    return try Connection(TestServer.url(), parameters: parameters)
  }
}
