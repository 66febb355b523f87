import CreditCore
import CreditRPC
import CreditStore
import JSON
import JSONRPC
import Testing

/// SPEC section 5, written out independently of the method table: who may call what.
/// `self` means "for its own learnerId / providerId / request".
private enum Right { case yes, no, ownOnly }

private let rights: [String: (staff: Right, learner: Right, provider: Right)] = [
  "createCourse": (.yes, .no, .no),
  "createProvider": (.yes, .no, .no),
  "offerCredit": (.yes, .no, .no),
  "createExam": (.yes, .no, .no),
  "setCreditRequirements": (.yes, .no, .no),
  "listCourses": (.yes, .yes, .yes),
  "createLearner": (.yes, .ownOnly, .no),
  "enroll": (.yes, .ownOnly, .no),
  "verifyIdentity": (.no, .ownOnly, .no),
  "reviewVerification": (.yes, .no, .no),
  "reverify": (.no, .ownOnly, .no),
  "declineRequirement": (.no, .ownOnly, .no),
  "startExam": (.no, .ownOnly, .no),
  "submitExam": (.no, .ownOnly, .no),
  "reviewExam": (.yes, .no, .no),
  "recordGrade": (.yes, .no, .no),
  "getRequirements": (.yes, .ownOnly, .no),
  "getDashboard": (.yes, .ownOnly, .no),
  "purchaseCredit": (.no, .ownOnly, .no),
  "getCreditRequest": (.yes, .ownOnly, .ownOnly),
  "submitProviderDecision": (.no, .no, .ownOnly),
  "extendPurchaseDeadline": (.yes, .no, .no),
  "grantExamTime": (.yes, .no, .no),
  "resetExamAttempt": (.yes, .no, .no),
  "listNotifications": (.yes, .ownOnly, .no),
  "getHistory": (.yes, .ownOnly, .no),
  // SPEC section 8.
  "listCreditRequests": (.yes, .no, .ownOnly),
  "updateProvider": (.yes, .no, .no),
  "withdrawCredit": (.yes, .no, .no),
  "listEnrollments": (.yes, .no, .no),
  "listOutbox": (.yes, .no, .no),
  "markNotificationsSent": (.yes, .no, .no),
  "listEvents": (.yes, .no, .no),
  "clock.set": (.yes, .yes, .yes),
  "clock.advance": (.yes, .yes, .yes),
  // SPEC section 6: the LSP lifecycle, for everyone.
  "initialize": (.yes, .yes, .yes),
  "shutdown": (.yes, .yes, .yes),
  "exit": (.yes, .yes, .yes),
]

private let course = "course-v1:MITx+6.002x+2026"
private let start = RFC3339.parse("2026-03-01T00:00:00Z")!

/// Plausible parameters for each method, naming learner `learner` and provider `provider`.
private func params(_ method: String, learner: String, provider: String, requestId: String) -> JSONObject {
  let lc: JSONObject = ["learnerId": .string(learner), "courseId": .string(course)]
  func with(_ base: JSONObject, _ extra: JSONObject) -> JSONObject {
    var o = base
    for m in extra { o.append(m.key, m.value) }
    return o
  }
  switch method {
  case "createCourse":
    return [
      "courseId": "course-v1:X+Y+Z", "title": "T", "startsAt": "2026-01-01T00:00:00Z",
      "endsAt": "2026-06-30T23:59:59Z",
    ]
  case "createProvider":
    return ["providerId": "p2", "displayName": "P", "url": "https://p.example", "secrets": ["longsecret"]]
  case "offerCredit":
    return [
      "courseId": .string(course), "providerId": .string(provider),
      "price": ["amount": "1", "currency": "USD"],
    ]
  case "createExam":
    return [
      "courseId": .string(course), "examId": "e2", "displayName": "E", "timeLimitMinutes": 10,
      "passingScore": 0.5,
    ]
  case "setCreditRequirements":
    return ["courseId": .string(course), "requirements": [["kind": "grade", "minGrade": 0.5]]]
  case "listCourses", "rpc.discover": return [:]
  case "createLearner":
    return ["learnerId": .string(learner), "fullName": "L", "email": "l@example.org", "country": "US"]
  case "enroll": return with(lc, ["mode": "verified"])
  case "verifyIdentity":
    return ["learnerId": .string(learner), "photoIdImage": "aWQ=", "faceImage": "ZmFjZQ=="]
  case "reviewVerification": return ["learnerId": .string(learner), "decision": "approved"]
  case "reverify": return with(lc, ["checkpointId": "c1", "faceImage": "ZmFjZQ=="])
  case "declineRequirement": return with(lc, ["requirementId": "reverification:c1"])
  case "startExam", "submitExam", "resetExamAttempt": return with(lc, ["examId": "final"])
  case "reviewExam": return with(lc, ["examId": "final", "review": "clean"])
  case "recordGrade": return with(lc, ["grade": 0.9])
  case "getRequirements", "getHistory": return lc
  case "getDashboard", "listNotifications": return ["learnerId": .string(learner)]
  case "purchaseCredit":
    return with(
      lc,
      [
        "providerId": .string(provider), "payment": ["method": "card", "token": "tok_visa"],
        "idempotencyKey": "k",
      ])
  case "getCreditRequest": return ["requestId": .string(requestId)]
  case "submitProviderDecision":
    return [
      "providerId": .string(provider), "requestId": .string(requestId), "status": "approved",
      "timestamp": .number(JSONNumber(start)), "signature": .string(String(repeating: "0", count: 64)),
    ]
  case "extendPurchaseDeadline": return with(lc, ["deadline": "2030-01-01T00:00:00Z"])
  case "grantExamTime": return with(lc, ["examId": "final", "extraMinutes": 5])
  case "listCreditRequests": return ["providerId": .string(provider)]
  case "updateProvider": return ["providerId": .string(provider), "description": "D"]
  case "withdrawCredit": return ["courseId": .string(course), "providerId": .string(provider)]
  case "listEnrollments": return ["courseId": .string(course)]
  case "listOutbox", "listEvents": return [:]
  case "markNotificationsSent": return ["notificationIds": [1]]
  case "clock.set": return ["now": "2026-03-01T00:00:00Z"]
  case "clock.advance": return ["seconds": 0]
  default: return [:]
  }
}

/// A fresh service where alice (eligible, with a credit request from provider asu) and bob exist.
private func seededServer(as principal: Principal) throws -> (Server, String) {
  let clock = TestClock(start)
  let admin = Server(
    service: CreditService(
      store: try StoreOpener.openStore(path: ":memory:", now: start), clock: clock, deterministicIds: true),
    principal: .admin, testClock: clock, logger: Logger(level: .error))
  let setup: [(String, JSONObject)] = [
    (
      "createCourse",
      [
        "courseId": .string(course), "title": "Circuits", "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "2026-06-30T23:59:59Z",
      ]
    ),
    (
      "createProvider",
      ["providerId": "asu", "displayName": "ASU", "url": "https://asu.example", "secrets": ["secret-1"]]
    ),
    (
      "offerCredit",
      ["courseId": .string(course), "providerId": "asu", "price": ["amount": "300", "currency": "USD"]]
    ),
    (
      "setCreditRequirements",
      ["courseId": .string(course), "requirements": [["kind": "grade", "minGrade": 0.5]]]
    ),
    ("createLearner", ["learnerId": "alice", "fullName": "A", "email": "a@example.org", "country": "US"]),
    ("createLearner", ["learnerId": "bob", "fullName": "B", "email": "b@example.org", "country": "US"]),
    ("enroll", ["learnerId": "alice", "courseId": .string(course), "mode": "verified"]),
    ("enroll", ["learnerId": "bob", "courseId": .string(course), "mode": "verified"]),
    ("recordGrade", ["learnerId": "alice", "courseId": .string(course), "grade": 0.9]),
    (
      "purchaseCredit",
      [
        "learnerId": "alice", "courseId": .string(course), "providerId": "asu",
        "payment": ["method": "card", "token": "tok_visa"], "idempotencyKey": "seed",
      ]
    ),
  ]
  var requestId = ""
  for (i, (method, p)) in setup.enumerated() {
    let outcome = admin.handle([Request(id: .int(i), method: method, params: p)])[0]
    guard case .success(let result) = outcome else {
      Issue.record("setup \(method) failed: \(outcome)")
      continue
    }
    if method == "purchaseCredit" { requestId = result["creditRequest"]?["requestId"]?.stringValue ?? "" }
  }
  let server = Server(
    service: admin.service, principal: principal, testClock: clock, logger: Logger(level: .error))
  return (server, requestId)
}

private func isForbidden(_ outcome: Result<JSONValue, RPCError>) -> Bool {
  if case .failure(let e) = outcome { return e.code == -32007 }
  return false
}

@Test("the rights table covers every registered method")
func rightsTableCoversEveryMethod() {
  let registered = Set(Methods.all.map(\.name))
  #expect(registered == Set(rights.keys))
}

@Test(
  "every method as every principal: allowed or forbidden as SPEC section 5 says",
  arguments: Methods.all.map(\.name))
func principalTable(method: String) throws {
  let (expectStaff, expectLearner, expectProvider) = rights[method]!
  func check(_ principal: Principal, learner: String, provider: String, allowed: Bool) throws {
    let (server, requestId) = try seededServer(as: principal)
    let p = params(method, learner: learner, provider: provider, requestId: requestId)
    let outcome = server.handle([Request(id: 1, method: method, params: p)])[0]
    #expect(
      isForbidden(outcome) == !allowed,
      "\(principal) calling \(method) for learner \(learner) / provider \(provider): \(outcome)")
  }
  // admin may do everything.
  try check(.admin, learner: "alice", provider: "asu", allowed: true)
  try check(.staff, learner: "alice", provider: "asu", allowed: expectStaff == .yes)
  // A learner on its own data, and on another learner's.
  try check(.learner("alice"), learner: "alice", provider: "asu", allowed: expectLearner != .no)
  try check(.learner("bob"), learner: "alice", provider: "asu", allowed: expectLearner == .yes)
  // A provider for itself, and for another provider.
  try check(.provider("asu"), learner: "alice", provider: "asu", allowed: expectProvider != .no)
  try check(.provider("mit"), learner: "alice", provider: "asu", allowed: expectProvider == .yes)
}

@Test("a learner reading another learner's credit request, or one that does not exist, is forbidden")
func creditRequestOfAnotherIsForbidden() throws {
  let (server, requestId) = try seededServer(as: .learner("bob"))
  #expect(
    isForbidden(
      server.handle([Request(id: 1, method: "getCreditRequest", params: ["requestId": .string(requestId)])])[
        0]))
  #expect(
    isForbidden(server.handle([Request(id: 1, method: "getCreditRequest", params: ["requestId": "nope"])])[0])
  )
}

@Test("a provider decision needs a valid signature, even from admin")
func decisionNeedsSignatureEvenFromAdmin() throws {
  let (server, requestId) = try seededServer(as: .admin)
  let p = params("submitProviderDecision", learner: "alice", provider: "asu", requestId: requestId)
  let outcome = server.handle([Request(id: 1, method: "submitProviderDecision", params: p)])[0]
  guard case .failure(let e) = outcome else {
    Issue.record("an unsigned decision was accepted")
    return
  }
  #expect(e.code == -32008)
}
