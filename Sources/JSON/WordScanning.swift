// Word-at-a-time scanning: eight bytes per step through the common runs of plain text.
//
// The masks below have the high bit of a byte set where that byte matches. Above the first match
// a bit may also be set spuriously (a borrow runs upwards), but never below it, so the lowest set
// bit of a little-endian word marks exactly the first byte that matches.

private let ones: UInt64 = 0x0101_0101_0101_0101
private let highBits: UInt64 = 0x8080_8080_8080_8080

@inline(__always)
private func equalMask(_ word: UInt64, _ byte: UInt8) -> UInt64 {
  let x = word ^ (ones &* UInt64(byte))
  return (x &- ones) & ~x
}

/// The eight bytes at `pointer`, the first in the lowest byte.
@inline(__always)
func loadWord(_ pointer: UnsafePointer<UInt8>) -> UInt64 {
  UInt64(littleEndian: UnsafeRawPointer(pointer).loadUnaligned(as: UInt64.self))
}

/// Where the first byte of `word` below 0x20, quote, backslash or 0x80 and above is (0 to 7),
/// or 8 if none is: the bytes at which the parser's string scan must stop.
@inline(__always)
func stringStop(_ word: UInt64) -> Int {
  let below20 = (word &- ones &* 0x20) & ~word
  let mask = (below20 | word | equalMask(word, 0x22) | equalMask(word, 0x5C)) & highBits
  return mask.trailingZeroBitCount &>> 3
}

/// As `stringStop`, but also stopping at U+007F: the bytes at which the writer must stop.
@inline(__always)
func writerStop(_ word: UInt64) -> Int {
  let below20 = (word &- ones &* 0x20) & ~word
  let mask = below20 | word | equalMask(word, 0x22) | equalMask(word, 0x5C) | equalMask(word, 0x7F)
  return (mask & highBits).trailingZeroBitCount &>> 3
}
