import SQLite

// Transitional: while the service still runs SQL itself, SQLite's errors reach the server as they
// are; the server sees them as store errors through this.

/// An error that stands for a store error.
public protocol StoreErrorConvertible: Error {
  var storeError: StoreError { get }
}

extension SQLiteError: StoreErrorConvertible {
  /// SQLite's result codes in the store's words.
  public var storeError: StoreError {
    let kind: StoreError.Kind
    if isBusy {
      kind = .busy
    } else if isReadOnly {
      kind = .readOnly
    } else if isFull {
      kind = .full
    } else if isIOError {
      kind = .unavailable
    } else if isCorrupt {
      kind = .corrupt
    } else if isConstraint {
      kind = .constraint
    } else {
      kind = .other
    }
    return StoreError(kind, description)
  }
}
