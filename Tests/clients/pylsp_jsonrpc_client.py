"""credit-rpc from python-lsp-jsonrpc (Debian: python3-pylsp-jsonrpc), as a plugin would use it.

Run with the system Python that has the package:
    CREDIT_RPC_BIN=.build/debug/credit-rpc /usr/bin/python3 Tests/clients/pylsp_jsonrpc_client.py
"""

import os
import subprocess
import threading

from pylsp_jsonrpc.endpoint import Endpoint
from pylsp_jsonrpc.exceptions import JsonRpcException
from pylsp_jsonrpc.streams import JsonRpcStreamReader, JsonRpcStreamWriter

proc = subprocess.Popen([os.environ.get("CREDIT_RPC_BIN", "credit-rpc"), "--db", ":memory:"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
endpoint = Endpoint({}, JsonRpcStreamWriter(proc.stdin).write)
threading.Thread(target=JsonRpcStreamReader(proc.stdout).listen, args=(endpoint.consume,), daemon=True).start()


def call(method, **params):
    return endpoint.request(method, params).result(timeout=10)


assert call("listCourses") == {"courses": []}
call("createLearner", learnerId="ada", fullName="Ada Lovelace", email="ada@example.org", country="GB")
assert call("getDashboard", learnerId="ada") == {"learnerId": "ada", "enrollments": []}
try:
    call("getDashboard", learnerId="ghost")
    raise AssertionError("an unknown learner was found")
except JsonRpcException as e:
    assert e.code == -32001 and e.data["reason"] == "learner_not_found", (e.code, e.data)
for i in range(100):
    assert call("getDashboard", learnerId="ada")["learnerId"] == "ada", i

endpoint.notify("exit")  # or close stdin: the service commits and exits 0 either way
assert proc.wait(timeout=10) == 0, proc.returncode
print("python-lsp-jsonrpc: ok")
