// Word-at-a-time scanning: eight bytes per step through the common runs of plain ASCII text.
// Each mask below has a high bit set somewhere exactly when some byte of the word matches (the
// bit may land on a later byte than the match, so callers then look byte by byte).

private let ones: UInt64 = 0x0101_0101_0101_0101
private let highBits: UInt64 = 0x8080_8080_8080_8080

@inline(__always)
private func equalMask(_ word: UInt64, _ byte: UInt8) -> UInt64 {
  let x = word ^ (ones &* UInt64(byte))
  return (x &- ones) & ~x
}

/// Whether some byte of `word` is below 0x20, a quote, a backslash, or 0x80 and above: the bytes
/// at which the parser's string scan must stop.
@inline(__always)
func stringWordNeedsAttention(_ word: UInt64) -> Bool {
  let below20 = (word &- ones &* 0x20) & ~word
  return (below20 | word | equalMask(word, 0x22) | equalMask(word, 0x5C)) & highBits != 0
}

/// As `stringWordNeedsAttention`, plus U+007F: the bytes at which the writer must stop.
@inline(__always)
func writerWordNeedsAttention(_ word: UInt64) -> Bool {
  let below20 = (word &- ones &* 0x20) & ~word
  let mask = below20 | word | equalMask(word, 0x22) | equalMask(word, 0x5C) | equalMask(word, 0x7F)
  return mask & highBits != 0
}
