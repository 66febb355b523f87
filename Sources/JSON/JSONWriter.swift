/// Compact JSON output as UTF-8 bytes.
///
/// No spaces; object members in stored order; numbers as their `text`. Strings escape `"`, `\`,
/// the control characters (`\n` `\r` `\t` `\b` `\f` by name, the rest and U+007F as `\u00xx`)
/// and U+2028/U+2029 (`\u2028`, `\u2029`); `/` and all other non-ASCII are written as they are.
public enum JSONWriter {
  /// Appends `value` to `out`.
  public static func write(_ value: JSONValue, into out: inout [UInt8]) {
    withSink { sink in
      sink.value(value)
      sink.append(to: &out)
    }
  }

  public static func bytes(_ value: JSONValue) -> [UInt8] {
    withSink { sink in
      sink.value(value)
      return sink.array()
    }
  }

  public static func string(_ value: JSONValue) -> String {
    withSink { sink in
      sink.value(value)
      return sink.string()
    }
  }

  /// Appends `s` quoted and escaped.
  public static func writeString(_ s: String, into out: inout [UInt8]) {
    withSink { sink in
      sink.string(s)
      sink.append(to: &out)
    }
  }

  /// Runs `body` with a sink whose first bytes live on the stack.
  @inline(__always)
  static func withSink<R>(_ body: (inout ByteSink) -> R) -> R {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { buffer in
      var sink = ByteSink(buffer)
      return body(&sink)
    }
  }
}

/// Output gathered in a buffer of its own (first the caller's stack buffer, then the heap), and
/// handed over in one copy: cheaper than growing an array a byte at a time.
struct ByteSink: ~Copyable {
  private var base: UnsafeMutablePointer<UInt8>
  private var count = 0
  private var capacity: Int
  private var onHeap = false

  init(_ initial: UnsafeMutableBufferPointer<UInt8>) {
    base = initial.baseAddress!
    capacity = initial.count
  }

  deinit { if onHeap { base.deallocate() } }

  private var written: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

  func append(to out: inout [UInt8]) { out.append(contentsOf: written) }
  func array() -> [UInt8] { Array(written) }
  func string() -> String { String(decoding: written, as: UTF8.self) }

  @inline(never)
  private mutating func grow(_ needed: Int) {
    let newCapacity = Swift.max(capacity * 2, count + needed)
    let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
    newBase.initialize(from: base, count: count)
    if onHeap { base.deallocate() }
    base = newBase
    capacity = newCapacity
    onHeap = true
  }

  @inline(__always)
  mutating func byte(_ b: UInt8) {
    if count == capacity { grow(1) }
    base[count] = b
    count &+= 1
  }

  @inline(__always)
  mutating func bytes(_ start: UnsafePointer<UInt8>, _ n: Int) {
    if capacity &- count < n { grow(n) }
    (base + count).update(from: start, count: n)
    count &+= n
  }

  @inline(__always)
  mutating func literal(_ text: StaticString) {
    bytes(text.utf8Start, text.utf8CodeUnitCount)
  }

  // MARK: Values

  mutating func value(_ value: JSONValue) {
    switch value {
    case .null: literal("null")
    case .bool(let b): literal(b ? "true" : "false")
    case .number(let n): raw(n.text)
    case .string(let s): string(s)
    case .array(let elements): array(elements)
    case .object(let o): object(o.members)
    }
  }

  // `array` and `object` are kept apart from `value` so that the frames each level of nesting
  // repeats stay small.
  mutating func array(_ elements: [JSONValue]) {
    byte(0x5B)
    var i = 0
    while i < elements.count {
      if i > 0 { byte(0x2C) }
      value(elements[i])
      i += 1
    }
    byte(0x5D)
  }

  mutating func object(_ members: [JSONObject.Member]) {
    byte(0x7B)
    var i = 0
    while i < members.count {
      if i > 0 { byte(0x2C) }
      string(members[i].key)
      byte(0x3A)
      value(members[i].value)
      i += 1
    }
    byte(0x7D)
  }

  /// The UTF-8 of `text` as it is.
  mutating func raw(_ text: String) {
    var text = text
    text.withUTF8 { if let start = $0.baseAddress { bytes(start, $0.count) } }
  }

  /// `text` quoted and escaped.
  mutating func string(_ text: String) {
    var text = text
    byte(0x22)
    text.withUTF8 { escaped($0) }
    byte(0x22)
  }

  private mutating func escaped(_ text: UnsafeBufferPointer<UInt8>) {
    guard let source = text.baseAddress else { return }
    let n = text.count
    // Copy optimistically, then look through the copy eight bytes at a time for a byte that needs
    // escaping: most strings have none. A string shorter than a word is copied over a word of
    // 'A's, so that the whole word can be read; a longer one ends with a word overlapping the one
    // before (whose bytes are known not to stop the scan).
    if capacity &- count < n &+ 8 { grow(n &+ 8) }
    let dest = base + count
    UnsafeMutableRawPointer(dest).storeBytes(of: 0x4141_4141_4141_4141 as UInt64, as: UInt64.self)
    dest.update(from: source, count: n)
    var clean = 0
    while true {
      if clean &+ 8 > n { clean = Swift.max(n &- 8, 0) }
      let stop = writerStop(loadWord(dest + clean))
      if stop < 8 {
        clean &+= stop
        break
      }
      clean &+= 8
      if clean >= n {
        count &+= n
        return
      }
    }
    count &+= clean
    escapedSlowly(source, n, from: clean)
  }

  /// Escapes `source[start..<end]`, whose first byte needs it.
  private mutating func escapedSlowly(_ source: UnsafePointer<UInt8>, _ end: Int, from start: Int) {
    var i = start
    var run = start
    while true {
      while i &+ 8 <= end {
        let stop = writerStop(loadWord(source + i))
        i &+= stop
        if stop < 8 { break }
      }
      guard i < end else { break }
      let c = source[i]
      if c >= 0x20 && c < 0x7F && c != 0x22 && c != 0x5C {
        i &+= 1
        continue
      }
      if c >= 0x80 {
        // U+2028 and U+2029 are E2 80 A8 and E2 80 A9; other non-ASCII passes through.
        if c == 0xE2, i &+ 2 < end, source[i &+ 1] == 0x80, source[i &+ 2] & 0xFE == 0xA8 {
          bytes(source + run, i &- run)
          literal(source[i &+ 2] == 0xA8 ? "\\u2028" : "\\u2029")
          i &+= 3
          run = i
        } else {
          i &+= 1
        }
        continue
      }
      bytes(source + run, i &- run)
      switch c {
      case 0x22: literal("\\\"")
      case 0x5C: literal("\\\\")
      case 0x0A: literal("\\n")
      case 0x0D: literal("\\r")
      case 0x09: literal("\\t")
      case 0x08: literal("\\b")
      case 0x0C: literal("\\f")
      default:
        let hex: StaticString = "0123456789abcdef"
        literal("\\u00")
        byte(hex.utf8Start[Int(c &>> 4)])
        byte(hex.utf8Start[Int(c & 0xF)])
      }
      i &+= 1
      run = i
    }
    bytes(source + run, end &- run)
  }
}
