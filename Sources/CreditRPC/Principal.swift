/// Who is calling: fixed for the life of the process (`--as`, `$CREDIT_RPC_AS`, else admin).
public enum Principal: Equatable, Sendable, CustomStringConvertible {
  case admin
  case staff
  case learner(String)
  case provider(String)

  /// Parses `admin`, `staff`, `learner:<id>`, `provider:<id>`; nil for anything else.
  public init?(_ text: String) {
    switch text {
    case "admin": self = .admin
    case "staff": self = .staff
    default:
      if text.hasPrefix("learner:"), case let id = String(text.dropFirst(8)), Formats.isIdentifier(id) {
        self = .learner(id)
      } else if text.hasPrefix("provider:"), case let id = String(text.dropFirst(9)), Formats.isIdentifier(id)
      {
        self = .provider(id)
      } else {
        return nil
      }
    }
  }

  /// The actor written into history.
  public var description: String {
    switch self {
    case .admin: "admin"
    case .staff: "staff"
    case .learner(let id): "learner:\(id)"
    case .provider(let id): "provider:\(id)"
    }
  }
}

/// Who may call a method (admin may call everything).
public struct Access: Sendable {
  /// Staff may call it.
  public var staff: Bool
  /// A learner may call it for its own `learnerId`.
  public var learnerSelf: Bool
  /// A provider may call it for its own `providerId`.
  public var providerSelf: Bool
  /// Anyone may call it.
  public var everyone: Bool
  /// Ownership is decided by the credit request named in `requestId` (learner's or provider's own).
  public var requestOwner: Bool

  public static let everyone = Access(
    staff: true, learnerSelf: true, providerSelf: true, everyone: true, requestOwner: false)
  /// Methods marked (staff).
  public static let staffOnly = Access(
    staff: true, learnerSelf: false, providerSelf: false, everyone: false, requestOwner: false)
  /// Reads of a learner's data, and the acts staff may do on a learner's behalf.
  public static let staffOrLearnerSelf = Access(
    staff: true, learnerSelf: true, providerSelf: false, everyone: false, requestOwner: false)
  /// The learner's own acts.
  public static let learnerSelfOnly = Access(
    staff: false, learnerSelf: true, providerSelf: false, everyone: false, requestOwner: false)
  public static let providerSelfOnly = Access(
    staff: false, learnerSelf: false, providerSelf: true, everyone: false, requestOwner: false)
  /// Staff, and a provider for its own `providerId` (omitted: its own).
  public static let staffOrProviderSelf = Access(
    staff: true, learnerSelf: false, providerSelf: true, everyone: false, requestOwner: false)
  public static let creditRequestReader = Access(
    staff: true, learnerSelf: false, providerSelf: false, everyone: false, requestOwner: true)

  /// Words for the OpenRPC document.
  public var summary: String {
    if everyone { return "anyone" }
    var who = ["admin"]
    if staff { who.append("staff") }
    if learnerSelf { who.append("the learner named by learnerId") }
    if providerSelf { who.append("the provider named by providerId") }
    if requestOwner { who.append("the learner or provider the credit request belongs to") }
    return who.joined(separator: ", ")
  }
}
