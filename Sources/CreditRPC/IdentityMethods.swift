import CreditCore
import JSON
import JSONRPC

/// Identity verification, reverification and proctored exams.
enum Identity {
  static let methods: [MethodDefinition] = []
}
