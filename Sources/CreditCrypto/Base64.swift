/// Base64 with the standard alphabet (RFC 4648 section 4).
///
/// Decoding is strict: no whitespace or line breaks, `=` padding is optional but must be
/// correct when present, and the unused low bits of the last symbol must be zero, so every
/// byte string has exactly one accepted padded and one accepted unpadded spelling.
public enum Base64 {
  public enum DecodeError: Error, Equatable, Sendable {
    /// A byte that is not in the alphabet; `offset` is its UTF-8 byte offset in the input.
    case invalidCharacter(offset: Int)
    /// The number of symbols cannot encode a whole number of bytes (one symbol left over).
    case invalidLength
    /// Misplaced or wrong amount of `=`, or non-zero unused bits in the last symbol.
    case invalidPadding
    /// The decoded data would exceed `limit` bytes. Detected from the length alone.
    case tooLarge(limit: Int)
  }

  /// Decodes `s`, refusing (before decoding anything) input whose decoded size would exceed
  /// `maxDecodedBytes`. An empty string decodes to an empty array.
  public static func decode(_ s: String, maxDecodedBytes: Int) throws(DecodeError) -> [UInt8] {
    var s = s
    s.makeContiguousUTF8()
    let result: Result<[UInt8], DecodeError> = s.utf8.withContiguousStorageIfAvailable { input in
      decodeAll(input, maxDecodedBytes: maxDecodedBytes)
    }!
    return try result.get()
  }

  /// Decodes `s` chunk by chunk straight into a SHA-256 state and returns the digest of the
  /// decoded bytes and their count, without ever materialising the decoded data. Validation and
  /// errors are exactly those of `decode(_:maxDecodedBytes:)`.
  public static func digest(
    _ s: String, maxDecodedBytes: Int
  ) throws(DecodeError) -> (sha256: [UInt8], byteCount: Int) {
    var s = s
    s.makeContiguousUTF8()
    let result: Result<(sha256: [UInt8], byteCount: Int), DecodeError> =
      s.utf8.withContiguousStorageIfAvailable { input in
        digestAll(input, maxDecodedBytes: maxDecodedBytes)
      }!
    return try result.get()
  }

  /// Encodes with `=` padding.
  public static func encode(_ bytes: [UInt8]) -> String {
    guard !bytes.isEmpty else { return "" }
    let outCount = (bytes.count + 2) / 3 * 4
    return String(unsafeUninitializedCapacity: outCount) { out in
      base64Alphabet.withUTF8Buffer { alphabet in
        bytes.withUnsafeBufferPointer { input in
          var i = 0
          var o = 0
          while i + 3 <= input.count {
            let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out[o] = alphabet[Int(v >> 18)]
            out[o + 1] = alphabet[Int(v >> 12 & 0x3f)]
            out[o + 2] = alphabet[Int(v >> 6 & 0x3f)]
            out[o + 3] = alphabet[Int(v & 0x3f)]
            i += 3
            o += 4
          }
          let padByte = UInt8(ascii: "=")
          switch input.count - i {
          case 1:
            let v = UInt32(input[i]) << 16
            out[o] = alphabet[Int(v >> 18)]
            out[o + 1] = alphabet[Int(v >> 12 & 0x3f)]
            out[o + 2] = padByte
            out[o + 3] = padByte
          case 2:
            let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out[o] = alphabet[Int(v >> 18)]
            out[o + 1] = alphabet[Int(v >> 12 & 0x3f)]
            out[o + 2] = alphabet[Int(v >> 6 & 0x3f)]
            out[o + 3] = padByte
          default:
            break
          }
        }
      }
      return outCount
    }
  }

  // MARK: - Implementation

  /// Where the symbols end and how many bytes they decode to.
  private struct Layout {
    /// Number of leading bytes that are symbols (everything before the trailing `=`).
    var symbolCount: Int
    var decodedCount: Int
  }

  /// Number of bytes that `symbolCount` symbols decode to (a leftover single symbol counts 0).
  private static func decodedCount(symbols symbolCount: Int) -> Int {
    let rest = symbolCount % 4
    return symbolCount / 4 * 3 + (rest >= 2 ? rest - 1 : 0)
  }

  /// Splits the input into symbols and trailing `=` and checks the size limit. Looks only at the
  /// length and the last two characters, so oversized input is rejected without being read.
  private static func layout(
    _ input: UnsafeBufferPointer<UInt8>, maxDecodedBytes: Int
  ) -> Result<Layout, DecodeError> {
    let count = input.count
    var padCount = 0
    while padCount < 2, padCount < count, input[count - 1 - padCount] == UInt8(ascii: "=") {
      padCount += 1
    }
    let symbolCount = count - padCount
    let decoded = decodedCount(symbols: symbolCount)
    if decoded > maxDecodedBytes {
      return .failure(.tooLarge(limit: maxDecodedBytes))
    }
    return .success(Layout(symbolCount: symbolCount, decodedCount: decoded))
  }

  /// Length and padding rules, checked after the symbols were found to be valid (so that a stray
  /// character is reported with its offset rather than as a length problem).
  /// Any third '=' from the end already failed as a misplaced '=' among the symbols.
  private static func structureError(totalCount: Int, layout: Layout) -> DecodeError? {
    if layout.symbolCount < totalCount {
      // Padding must complete the last quantum to exactly 4 characters.
      return totalCount % 4 == 0 ? nil : .invalidPadding
    }
    return layout.symbolCount % 4 == 1 ? .invalidLength : nil
  }

  private static func decodeAll(
    _ input: UnsafeBufferPointer<UInt8>, maxDecodedBytes: Int
  ) -> Result<[UInt8], DecodeError> {
    let layout: Layout
    switch self.layout(input, maxDecodedBytes: maxDecodedBytes) {
    case .success(let l): layout = l
    case .failure(let error): return .failure(error)
    }
    guard layout.symbolCount > 0, let base = input.baseAddress else {
      if let error = structureError(totalCount: input.count, layout: layout) { return .failure(error) }
      return .success([])
    }

    var failure: DecodeError? = nil
    // At least one byte of capacity so `baseAddress` is never nil (e.g. for a lone symbol).
    let capacity = Swift.max(layout.decodedCount, 1)
    let bytes = [UInt8](unsafeUninitializedCapacity: capacity) { out, initialized in
      failure =
        decodeSymbols(base, count: layout.symbolCount, offset: 0, into: out.baseAddress!)
        ?? structureError(totalCount: input.count, layout: layout)
      initialized = failure == nil ? layout.decodedCount : 0
    }
    if let failure { return .failure(failure) }
    return .success(bytes)
  }

  /// Symbols decoded per chunk by `digest`; a multiple of 4 so only the last chunk is partial.
  private static let digestChunkSymbols = 16 * 1024

  private static func digestAll(
    _ input: UnsafeBufferPointer<UInt8>, maxDecodedBytes: Int
  ) -> Result<(sha256: [UInt8], byteCount: Int), DecodeError> {
    let layout: Layout
    switch self.layout(input, maxDecodedBytes: maxDecodedBytes) {
    case .success(let l): layout = l
    case .failure(let error): return .failure(error)
    }

    var hasher = SHA256()
    var failure: DecodeError? = nil
    if layout.symbolCount > 0, let base = input.baseAddress {
      let chunkBytes = digestChunkSymbols / 4 * 3
      withUnsafeTemporaryAllocation(of: UInt8.self, capacity: chunkBytes) { chunk in
        var start = 0
        while start < layout.symbolCount {
          let symbols = Swift.min(digestChunkSymbols, layout.symbolCount - start)
          if let error = decodeSymbols(base + start, count: symbols, offset: start, into: chunk.baseAddress!)
          {
            failure = error
            return
          }
          let produced = decodedCount(symbols: symbols)
          hasher.update(UnsafeRawBufferPointer(start: chunk.baseAddress!, count: produced))
          start += symbols
        }
      }
    }
    if let error = failure ?? structureError(totalCount: input.count, layout: layout) {
      return .failure(error)
    }
    return .success((sha256: hasher.finalize(), byteCount: layout.decodedCount))
  }

  /// Decodes `count` symbols from `input` into `out`, which must have room for
  /// `decodedCount(symbols: count)` bytes. A single leftover symbol is validated but produces
  /// nothing (the caller reports `invalidLength`). `offset` is the position of `input[0]`
  /// in the whole string, for error reporting.
  private static func decodeSymbols(
    _ input: UnsafePointer<UInt8>, count: Int, offset: Int, into out: UnsafeMutablePointer<UInt8>
  ) -> DecodeError? {
    base64DecodeTable.withUnsafeBufferPointer { table in
      // Every table entry that is not a 6-bit value has one of the two top bits set.
      let invalidMask: UInt8 = 0xc0
      var i = 0
      var o = 0
      while i + 4 <= count {
        let a = table[Int(input[i])]
        let b = table[Int(input[i + 1])]
        let c = table[Int(input[i + 2])]
        let d = table[Int(input[i + 3])]
        if (a | b | c | d) & invalidMask != 0 {
          return symbolError(input + i, count: 4, offset: offset + i, table: table)
        }
        let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
        out[o] = UInt8(truncatingIfNeeded: v >> 16)
        out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
        out[o + 2] = UInt8(truncatingIfNeeded: v)
        i += 4
        o += 3
      }
      switch count - i {
      case 1:
        if table[Int(input[i])] & invalidMask != 0 {
          return symbolError(input + i, count: 1, offset: offset + i, table: table)
        }
      case 2:
        let a = table[Int(input[i])]
        let b = table[Int(input[i + 1])]
        if (a | b) & invalidMask != 0 {
          return symbolError(input + i, count: 2, offset: offset + i, table: table)
        }
        if b & 0x0f != 0 { return .invalidPadding }
        out[o] = a << 2 | b >> 4
      case 3:
        let a = table[Int(input[i])]
        let b = table[Int(input[i + 1])]
        let c = table[Int(input[i + 2])]
        if (a | b | c) & invalidMask != 0 {
          return symbolError(input + i, count: 3, offset: offset + i, table: table)
        }
        if c & 0x03 != 0 { return .invalidPadding }
        out[o] = a << 2 | b >> 4
        out[o + 1] = (b & 0x0f) << 4 | c >> 2
      default:
        break
      }
      return nil
    }
  }

  /// Reports the first non-symbol in a group known to contain one: a misplaced '=' is a padding
  /// error, anything else an invalid character.
  private static func symbolError(
    _ group: UnsafePointer<UInt8>, count: Int, offset: Int, table: UnsafeBufferPointer<UInt8>
  ) -> DecodeError {
    for j in 0..<count {
      switch table[Int(group[j])] {
      case paddingSymbol: return .invalidPadding
      case invalidSymbol: return .invalidCharacter(offset: offset + j)
      default: continue
      }
    }
    preconditionFailure("symbolError called on a valid group")
  }
}

private let base64Alphabet: StaticString =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

private let invalidSymbol: UInt8 = 0xff
private let paddingSymbol: UInt8 = 0xfe

/// Maps every byte to its 6-bit value, `paddingSymbol` for '=' or `invalidSymbol`.
private let base64DecodeTable: [UInt8] = {
  var table = [UInt8](repeating: invalidSymbol, count: 256)
  base64Alphabet.withUTF8Buffer { alphabet in
    for (value, symbol) in alphabet.enumerated() {
      table[Int(symbol)] = UInt8(value)
    }
  }
  table[Int(UInt8(ascii: "="))] = paddingSymbol
  return table
}()
