import CreditCore
import CreditRPC
import CreditStore
import JSONRPC
import SQLite

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

let usage = """
  usage: credit-rpc [--db PATH] [--as PRINCIPAL] [--test-clock TIME] [--max-line-bytes N]
                    [--log-level LEVEL] [--trace-sql FILE] [--version] [--help]

  Serves the credit workflow as JSON-RPC 2.0 on stdin/stdout, one message per line, or framed
  with Content-Length headers (as editors' JSON-RPC libraries do) when the input starts so.

    --db PATH            the SQLite database (default: $CREDIT_RPC_DB, else
                         $XDG_DATA_HOME/credit-rpc/credit.sqlite or ~/.local/share/...);
                         :memory: for a throwaway one
    --as PRINCIPAL       admin, staff, learner:<id> or provider:<id>
                         (default: $CREDIT_RPC_AS, else admin)
    --test-clock TIME    freeze the clock at TIME (RFC 3339) and enable clock.set / clock.advance
    --max-line-bytes N   the longest request line accepted (default 8388608)
    --log-level LEVEL    error, warning, info (default) or debug; logs go to stderr
    --trace-sql FILE     append every SQL statement run to FILE (for profiling)
    --version            print the version and exit
    --help               print this help and exit

  """

func fail(_ message: String, code: Int32 = 2) -> Never {
  var text = Array("credit-rpc: \(message)\n".utf8)
  _ = text.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
  exit(code)
}

func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

struct Options {
  var db: String?
  var principal: String?
  var testClock: String?
  var maxLineBytes = 8 << 20
  var logLevel = Logger.Level.info
  var logLevelGiven = false
  var traceSQL: String?
}

func parseArguments(_ args: [String]) -> Options {
  var o = Options()
  var i = 0
  func value(_ flag: String, _ inline: String?) -> String {
    if let inline { return inline }
    i += 1
    guard i < args.count else { fail("\(flag) needs a value\n\n\(usage)") }
    return args[i]
  }
  while i < args.count {
    let arg = args[i]
    var flag = arg
    var inline: String?
    if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
      flag = String(arg[..<eq])
      inline = String(arg[arg.index(after: eq)...])
    }
    switch flag {
    case "--help", "-h":
      print(usage, terminator: "")
      exit(0)
    case "--version":
      print("credit-rpc \(OpenRPC.version)")
      exit(0)
    case "--db": o.db = value(flag, inline)
    case "--as": o.principal = value(flag, inline)
    case "--test-clock": o.testClock = value(flag, inline)
    case "--trace-sql": o.traceSQL = value(flag, inline)
    case "--max-line-bytes":
      let v = value(flag, inline)
      guard let n = Int(v), n > 0 else { fail("--max-line-bytes takes a positive whole number, not '\(v)'") }
      o.maxLineBytes = n
    case "--log-level":
      let v = value(flag, inline)
      guard let l = Logger.Level(name: v) else {
        fail("--log-level takes error, warning, info or debug, not '\(v)'")
      }
      o.logLevel = l
      o.logLevelGiven = true
    default:
      fail("unknown argument '\(arg)'\n\n\(usage)")
    }
    i += 1
  }
  return o
}

let options = parseArguments(Array(CommandLine.arguments.dropFirst()))

// The principal.
let principalText = options.principal ?? env("CREDIT_RPC_AS").flatMap { $0.isEmpty ? nil : $0 } ?? "admin"
guard let principal = Principal(principalText) else {
  fail("'\(principalText)' is not a principal: use admin, staff, learner:<id> or provider:<id>")
}

// The clock.
let clock: Clock
var testClock: TestClock?
if let t = options.testClock {
  guard let instant = RFC3339.parse(t), instant <= RFC3339.maxInstant - 365 * 86_400 else {
    fail("--test-clock takes an RFC 3339 time up to 9998-12-31 such as 2026-06-30T23:59:59Z, not '\(t)'")
  }
  testClock = TestClock(instant)
  clock = testClock!
} else {
  clock = SystemClock()
}

// stdout carries the protocol only: keep a private copy of it for the transport, and point fd 1
// at stderr so that a stray print can never corrupt the stream.
signal(SIGPIPE, SIG_IGN)
let protocolOut = dup(1)
guard protocolOut >= 0 else { fail("cannot duplicate stdout", code: 1) }
dup2(2, 1)

let logger = Logger(level: options.logLevel)

// The database.
var environment: [String: String] = [:]
for name in ["XDG_DATA_HOME", "HOME"] { environment[name] = env(name) }
let path: String
if let p = options.db ?? env("CREDIT_RPC_DB").flatMap({ $0.isEmpty ? nil : $0 }) {
  path = p
} else {
  guard let p = StoreOpener.defaultPath(environment: environment) else {
    fail("no database path: pass --db, or set CREDIT_RPC_DB, XDG_DATA_HOME or HOME", code: 1)
  }
  StoreOpener.makeParentDirectories(of: p)
  path = p
}

let db: Database
do {
  db = try StoreOpener.open(path: path, now: clock.now)
} catch {
  fail("\(error)", code: 1)
}

if let traceFile = options.traceSQL {
  let fd = open(traceFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
  guard fd >= 0, let f = fdopen(fd, "a") else { fail("cannot open --trace-sql file \(traceFile)", code: 1) }
  // Line-buffered, so that a reader sees each statement as it runs (statements per request).
  setvbuf(f, nil, _IOLBF, 0)
  db.trace { sql in
    fputs(sql, f)
    fputs("\n", f)
  }
}

let service = CreditService(
  store: SQLStore(SQLiteConnection(db)), clock: clock, deterministicIds: testClock != nil)
let server = Server(service: service, principal: principal, testClock: testClock, logger: logger)
let transport = LineServer(
  input: 0, output: protocolOut, limits: TransportLimits(maxLineBytes: options.maxLineBytes), handler: server)
transport.framingDecided = { framing in
  // Editor clients (header framing) show every stderr line as an error: by default only warnings
  // and errors go there.
  if framing == .headers, !options.logLevelGiven { logger.level = .warning }
  logger.info(
    "serving \(path == ":memory:" ? "an in-memory database" : path) as \(principal), "
      + (framing == .headers ? "Content-Length framing" : "one message per line"))
}
let end = transport.run()
// Everything answered is committed already; closing checkpoints the WAL into the database file.
db.close()
if end == .unreadableHeader {
  logger.error("a message header could not be read (see the -32700 answer); stopped")
  exit(1)
}
exit(0)
