import CLibPQ

/// The rows of one statement's result (text format), owned until the value goes away.
public final class Rows {
  let handle: OpaquePointer
  public let count: Int32
  public let columnCount: Int32

  init(_ handle: OpaquePointer) {
    self.handle = handle
    self.count = PQntuples(handle)
    self.columnCount = PQnfields(handle)
  }

  deinit { PQclear(handle) }

  public subscript(_ row: Int32) -> Row { Row(rows: self, index: row) }

  /// The rows a data-changing statement affected (0 for others).
  public var affected: Int { Int(String(cString: PQcmdTuples(handle))) ?? 0 }
}

/// One row of a result, read by column index like SQLite's `Statement`: BIGINT, DOUBLE PRECISION,
/// TEXT, BYTEA (and BOOLEAN, INTEGER, NUMERIC where a query produces them).
public struct Row {
  let rows: Rows
  public let index: Int32

  private var handle: OpaquePointer { rows.handle }

  private func bytes(_ i: Int32) -> UnsafeBufferPointer<UInt8> {
    let n = Int(PQgetlength(handle, index, i))
    let p = UnsafeRawPointer(PQgetvalue(handle, index, i)!).assumingMemoryBound(to: UInt8.self)
    return UnsafeBufferPointer(start: p, count: n)
  }

  private func string(_ i: Int32) -> String { String(decoding: bytes(i), as: UTF8.self) }

  public var columnCount: Int32 { rows.columnCount }
  public func isNull(_ i: Int32) -> Bool { PQgetisnull(handle, index, i) != 0 }

  public func int64(_ i: Int32) -> Int64 {
    if isNull(i) { return 0 }
    let s = string(i)
    if let v = Int64(s) { return v }
    if s == "t" { return 1 }
    if s == "f" { return 0 }
    return Int64(exactly: parseDouble(s).rounded(.towardZero)) ?? 0
  }

  public func int(_ i: Int32) -> Int { Int(int64(i)) }
  public func double(_ i: Int32) -> Double { isNull(i) ? 0 : parseDouble(string(i)) }
  public func bool(_ i: Int32) -> Bool { int64(i) != 0 }
  public func text(_ i: Int32) -> String { isNull(i) ? "" : string(i) }

  /// A BYTEA column's bytes (the UTF-8 bytes of any other type).
  public func blob(_ i: Int32) -> [UInt8] {
    if isNull(i) { return [] }
    if PQftype(handle, i) == 17 { return decodeBytea(bytes(i)) }
    return Array(bytes(i))
  }

  public func optionalText(_ i: Int32) -> String? { isNull(i) ? nil : text(i) }
  public func optionalInt64(_ i: Int32) -> Int64? { isNull(i) ? nil : int64(i) }
  public func optionalDouble(_ i: Int32) -> Double? { isNull(i) ? nil : double(i) }
  public func optionalBlob(_ i: Int32) -> [UInt8]? { isNull(i) ? nil : blob(i) }
}
