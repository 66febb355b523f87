/// A refusal from the domain, with the wire code it maps to and a message a plugin author can act on.
public struct CreditError: Error, Sendable, Equatable {
  public enum Kind: Int, Sendable {
    case invalidParams = -32602
    case internalError = -32603
    case notFound = -32001
    case alreadyExists = -32002
    case invalidState = -32003
    case notEligible = -32004
    case deadlinePassed = -32005
    case paymentDeclined = -32006
    case forbidden = -32007
    case invalidSignature = -32008
    case conflict = -32009
    case unavailable = -32010
  }

  public var kind: Kind
  public var message: String
  /// snake_case, stable: what programs branch on.
  public var reason: String
  /// The parameter at fault, when there is one.
  public var field: String?

  public init(_ kind: Kind, _ message: String, reason: String, field: String? = nil) {
    self.kind = kind
    self.message = message
    self.reason = reason
    self.field = field
  }

  public static func notFound(_ what: String, _ id: String, field: String, reason: String? = nil)
    -> CreditError
  {
    CreditError(
      .notFound, "No \(what) with id '\(id)' exists.", reason: reason ?? "\(what.replacingSpaces)_not_found",
      field: field)
  }

  public static func notEnrolled(_ learnerId: String, _ courseId: String) -> CreditError {
    CreditError(
      .notFound, "Learner '\(learnerId)' is not enrolled in \(courseId); enroll first.",
      reason: "not_enrolled",
      field: "courseId")
  }

  public static func invalidState(_ message: String, reason: String) -> CreditError {
    CreditError(.invalidState, message, reason: reason)
  }

  public static func invalidParams(_ message: String, field: String, reason: String = "invalid_params")
    -> CreditError
  {
    CreditError(.invalidParams, message, reason: reason, field: field)
  }

  public static func unavailable(_ message: String, reason: String) -> CreditError {
    CreditError(.unavailable, message, reason: reason)
  }
}

/// A refusal whose record is kept: what was written before it (a declined payment's history
/// event) is committed, and the caller is still refused with `error`. The outcome is the type, not
/// a flag on the error.
public struct RecordedRefusal: Error, Sendable {
  public let error: CreditError

  public init(_ error: CreditError) { self.error = error }
}

extension String {
  fileprivate var replacingSpaces: String { String(map { $0 == " " ? "_" : $0 }) }
}
