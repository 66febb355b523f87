/// An instant as whole Unix seconds (UTC). Output times are whole seconds, so this is all we keep.
public typealias Instant = Int64

public enum RFC3339 {
  /// Parses `2026-06-30T23:59:59Z`, with optional fractional seconds (dropped: times are whole
  /// seconds) and a `Z` or `±HH:MM` offset. Nil when the text is not such a timestamp or names a
  /// day that does not exist.
  public static func parse(_ text: String) -> Instant? {
    let b = Array(text.utf8)
    var i = 0
    func digits(_ n: Int) -> Int? {
      guard i + n <= b.count else { return nil }
      var v = 0
      for k in 0..<n {
        let c = b[i + k]
        guard c >= 0x30, c <= 0x39 else { return nil }
        v = v * 10 + Int(c - 0x30)
      }
      i += n
      return v
    }
    func expect(_ c: UInt8) -> Bool {
      guard i < b.count, b[i] == c else { return false }
      i += 1
      return true
    }
    guard let year = digits(4), expect(0x2D), let month = digits(2), expect(0x2D), let day = digits(2) else {
      return nil
    }
    guard i < b.count, b[i] == 0x54 || b[i] == 0x74 else { return nil }  // T or t
    i += 1
    guard let hour = digits(2), expect(0x3A), let minute = digits(2), expect(0x3A), let second = digits(2)
    else {
      return nil
    }
    if i < b.count, b[i] == 0x2E {  // fraction
      i += 1
      let begin = i
      while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
      guard i > begin else { return nil }
    }
    var offset = 0
    guard i < b.count else { return nil }
    if b[i] == 0x5A || b[i] == 0x7A {  // Z or z
      i += 1
    } else if b[i] == 0x2B || b[i] == 0x2D {
      let sign = b[i] == 0x2B ? 1 : -1
      i += 1
      guard let oh = digits(2), expect(0x3A), let om = digits(2), oh < 24, om < 60 else { return nil }
      offset = sign * (oh * 3600 + om * 60)
    } else {
      return nil
    }
    guard i == b.count else { return nil }
    guard (1...9999).contains(year), (1...12).contains(month), day >= 1,
      day <= daysIn(month: month, year: year),
      hour < 24, minute < 60, second < 60
    else { return nil }
    let days = daysFromCivil(year, month, day)
    let t = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
    // An offset must not carry the instant out of the years that can be written back.
    guard t >= minInstant, t <= maxInstant else { return nil }
    return t
  }

  /// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the instants a four-digit year can write.
  public static let minInstant: Instant = Int64(daysFromCivil(1, 1, 1)) * 86_400
  public static let maxInstant: Instant = Int64(daysFromCivil(9999, 12, 31)) * 86_400 + 86_399

  /// `2026-06-30T23:59:59Z`.
  public static func format(_ t: Instant) -> String {
    let days = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
    let secs = Int(t - days * 86_400)
    let (y, m, d) = civilFromDays(Int(days))
    return String(unsafeUninitializedCapacity: 20) { out in
      @inline(__always) func put2(_ v: Int, _ at: Int) {
        out[at] = UInt8(truncatingIfNeeded: 0x30 + v / 10)
        out[at + 1] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
      }
      let year = min(max(y, 0), 9999)
      put2(year / 100, 0)
      put2(year % 100, 2)
      out[4] = 0x2D
      put2(m, 5)
      out[7] = 0x2D
      put2(d, 8)
      out[10] = 0x54
      put2(secs / 3600, 11)
      out[13] = 0x3A
      put2(secs / 60 % 60, 14)
      out[16] = 0x3A
      put2(secs % 60, 17)
      out[19] = 0x5A
      return 20
    }
  }

  static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

  static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: isLeap(year) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }

  // Howard Hinnant's days_from_civil / civil_from_days.
  static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
    let y = m <= 2 ? y0 - 1 : y0
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
    let z = z0 + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let y = yoe + era * 400
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp + (mp < 10 ? 3 : -9)
    return (m <= 2 ? y + 1 : y, m, d)
  }
}

/// Where "now" comes from: the system clock, or a test clock that only moves when told.
public protocol Clock: AnyObject {
  var now: Instant { get }
}

public final class SystemClock: Clock {
  public init() {}
  public var now: Instant {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Instant(ts.tv_sec)
  }
}

public final class TestClock: Clock {
  public var now: Instant
  public init(_ now: Instant) { self.now = now }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif
