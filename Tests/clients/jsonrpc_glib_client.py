"""credit-rpc from GNOME's jsonrpc-glib (Debian: gir1.2-jsonrpc-1.0, python3-gi), as a plugin would
use it. jsonrpc-glib (3.42) raises an error answer as a GLib.Error of domain g-io-error-quark, code 0,
whose message is the error object printed as a GVariant: parse it back for code and data.reason.

    CREDIT_RPC_BIN=.build/debug/credit-rpc /usr/bin/python3 Tests/clients/jsonrpc_glib_client.py
"""

import os

import gi

gi.require_version("Jsonrpc", "1.0")
from gi.repository import Gio, GLib, Jsonrpc  # noqa: E402

proc = Gio.Subprocess.new([os.environ.get("CREDIT_RPC_BIN", "credit-rpc"), "--db", ":memory:"],
                          Gio.SubprocessFlags.STDIN_PIPE | Gio.SubprocessFlags.STDOUT_PIPE)
client = Jsonrpc.Client.new(Gio.SimpleIOStream.new(proc.get_stdout_pipe(), proc.get_stdin_pipe()))


def call(method, **params):
    ok, reply = client.call(method, GLib.Variant("a{sv}", {k: GLib.Variant("s", v) for k, v in params.items()}))
    assert ok
    return reply.unpack()


assert call("listCourses") == {"courses": []}
call("createLearner", learnerId="ada", fullName="Ada Lovelace", email="ada@example.org", country="GB")
assert call("getDashboard", learnerId="ada") == {"learnerId": "ada", "enrollments": []}
try:
    call("getDashboard", learnerId="ghost")
    raise AssertionError("an unknown learner was found")
except GLib.Error as e:
    error = GLib.Variant.parse(GLib.VariantType("a{sv}"), e.message, None, None).unpack()
    assert error["code"] == -32001 and error["data"]["reason"] == "learner_not_found", error
for i in range(100):
    assert call("getDashboard", learnerId="ada")["learnerId"] == "ada", i

client.send_notification("exit", None)  # the service commits and exits 0
proc.wait()
assert proc.get_exit_status() == 0, proc.get_exit_status()
print("jsonrpc-glib: ok")
