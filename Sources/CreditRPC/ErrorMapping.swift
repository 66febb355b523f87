import CreditCore
import JSONRPC

extension Server {
  /// Every error a request can end with, as the client sees it: the one place where domain and
  /// store errors become JSON-RPC errors. Store failures are put in words (never SQL); their
  /// details go to the log.
  func rpcError(_ error: Error) -> RPCError {
    switch error {
    case let e as RPCError:
      return e
    case let e as CreditError:
      return RPCError(code: e.kind.rawValue, message: e.message, reason: e.reason, field: e.field)
    case let r as RecordedRefusal:
      return rpcError(r.error)
    case let e as StoreError:
      return storeError(e)
    default:
      logger.error("internal error: \(error)")
      return .internalError()
    }
  }

  private func storeError(_ e: StoreError) -> RPCError {
    let unavailable = CreditError.Kind.unavailable.rawValue
    switch e.kind {
    case .busy:
      return RPCError(
        code: unavailable,
        message: "The database is busy (another process holds the lock past the timeout); try again.",
        reason: "database_busy")
    case .readOnly:
      return RPCError(
        code: unavailable, message: "The database is read-only; nothing can be changed.",
        reason: "database_read_only")
    case .full:
      return RPCError(
        code: unavailable, message: "The disk or database is full; nothing was changed.",
        reason: "database_full")
    case .unavailable, .corrupt:
      logger.error("storage failure: \(e)")
      return RPCError(
        code: unavailable, message: "The database could not be read or written.",
        reason: "database_unavailable")
    case .constraint, .other:
      logger.error("internal store error: \(e)")
      return .internalError()
    }
  }
}
