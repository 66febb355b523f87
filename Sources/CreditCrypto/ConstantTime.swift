/// Compares two byte strings in time that depends only on their length, not on where (or
/// whether) they differ. Use it for MACs, tokens and other secrets.
/// Arrays of different lengths return `false` immediately; the length is not secret.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
  guard a.count == b.count else { return false }
  var difference: UInt8 = 0
  a.withUnsafeBufferPointer { x in
    b.withUnsafeBufferPointer { y in
      for i in 0..<x.count {
        difference |= x[i] ^ y[i]
      }
    }
  }
  return difference == 0
}
