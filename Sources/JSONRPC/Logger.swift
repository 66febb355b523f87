#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Log lines on stderr (never stdout, which carries the protocol only).
public final class Logger: @unchecked Sendable {
  public enum Level: Int, Comparable, Sendable, CaseIterable {
    case error = 0, warning, info, debug

    public init?(name: String) {
      switch name {
      case "error": self = .error
      case "warning": self = .warning
      case "info": self = .info
      case "debug": self = .debug
      default: return nil
      }
    }

    public var name: String {
      switch self {
      case .error: "error"
      case .warning: "warning"
      case .info: "info"
      case .debug: "debug"
      }
    }

    public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
  }

  /// Set before serving (the process lowers it once the framing is known); not for other threads.
  public var level: Level
  private let fd: Int32

  public init(level: Level, fd: Int32 = 2) {
    self.level = level
    self.fd = fd
  }

  public func enabled(_ l: Level) -> Bool { l <= level }

  public func log(_ l: Level, _ message: @autoclosure () -> String) {
    guard l <= level else { return }
    let line = "credit-rpc \(l.name): \(message())\n"
    var bytes = Array(line.utf8)
    _ = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
  }

  public func error(_ m: @autoclosure () -> String) { log(.error, m()) }
  public func warning(_ m: @autoclosure () -> String) { log(.warning, m()) }
  public func info(_ m: @autoclosure () -> String) { log(.info, m()) }
  public func debug(_ m: @autoclosure () -> String) { log(.debug, m()) }
}
