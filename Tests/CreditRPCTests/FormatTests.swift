import CreditRPC
import Testing

@Test(
  "course ids have the form course-v1:ORG+NUMBER+RUN",
  arguments: [
    ("course-v1:MITx+6.002x+2026_T1", true), ("course-v1:Ünï+Kürs+2026", true), ("course-v1:A+B+C", true),
    ("course-v1:A+B", false), ("course-v1:A+B+C+D", false), ("course-v1:+B+C", false),
    ("course-v1:A++C", false),
    ("course-v1:A+B+", false), ("course-v1:", false), ("MITx+6.002x+2026", false),
    ("course-v1:A B+C+D", false),
    ("course-v1:A+B+C\u{00A0}", false), ("course-v1:A+B+C\n", false), ("course-v2:A+B+C", false),
  ])
func courseIdFormat(id: String, valid: Bool) {
  #expect(Formats.courseId.isValid(id) == valid)
}

@Test(
  "ids are 1-200 characters without control characters or surrounding spaces",
  arguments: [
    ("alice", true), ("alice'; DROP TABLE learners;--", true), ("名前", true), ("a b", true),
    (String(repeating: "x", count: 200), true), (String(repeating: "x", count: 201), false),
    (String(repeating: "é", count: 200), true), (String(repeating: "é", count: 201), false),
    ("", false), (" alice", false), ("alice ", false), ("\u{3000}alice", false), ("al\u{0}ice", false),
    ("al\u{7F}ice", false), ("al\nice", false),
  ])
func identifierFormat(id: String, valid: Bool) {
  #expect(Formats.isIdentifier(id) == valid)
}
