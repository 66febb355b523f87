"""Shared plumbing of the reliability tools (crash, fuzz): find the credit-rpc binary, run it with
piped stdin/stdout, feed it from a writer thread and read its answers as they come, always with a
deadline.

Standalone: imports nothing from the test suite, so that each tool also runs by hand
(`python3 Tests/tools/crash_tool.py --help`).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
OPENRPC_PATH = REPO_ROOT / "Protocol" / "openrpc.json"


def find_binary() -> str:
    """$CREDIT_RPC_BIN, else the debug build of `swift build` (built when missing)."""
    env_bin = os.environ.get("CREDIT_RPC_BIN")
    if env_bin:
        return env_bin
    bin_dir = subprocess.run(
        ["swift", "build", "--show-bin-path"], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=300, check=True,
    ).stdout.strip()
    path = Path(bin_dir) / "credit-rpc"
    if not path.exists():
        subprocess.run(["swift", "build", "--product", "credit-rpc"], cwd=REPO_ROOT, timeout=1800,
                       check=True, stdout=sys.stderr)
    return str(path)


def child_env(**overrides: str | None) -> dict[str, str]:
    """Our environment without CREDIT_RPC_* variables, plus `overrides` (None removes one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDIT_RPC_")}
    for k, v in overrides.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def request_line(id, method: str, params: dict | None = None) -> bytes:
    msg = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        msg["params"] = params
    return (json.dumps(msg, separators=(",", ":")) + "\n").encode()


class Piped:
    """One credit-rpc process: stdin fed by a writer thread, stdout read line by line with
    deadlines, stderr collected in a temporary file (so that it can never block the child)."""

    def __init__(self, binary: str, args: list[str], env: dict[str, str] | None = None,
                 preexec_fn=None, cwd: str | None = None):
        self._stderr = tempfile.TemporaryFile()
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [binary, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            env=env if env is not None else child_env(), preexec_fn=preexec_fn, cwd=cwd,
        )
        self._buf = b""
        self._eof = False
        self._writer: threading.Thread | None = None
        self.write_error: BaseException | None = None
        self.killed = False

    # --- input ---------------------------------------------------------------------------

    def feed(self, data: bytes, close: bool = True) -> None:
        """Writes `data` from a thread (a child that stops reading cannot block us), then closes
        stdin when `close`. A child that died meanwhile is not an error here."""
        def run():
            try:
                view = memoryview(data)
                while len(view):
                    n = os.write(self.proc.stdin.fileno(), view[:1 << 16])
                    view = view[n:]
                if close:
                    self.proc.stdin.close()
            except (BrokenPipeError, OSError, ValueError) as e:
                self.write_error = e
        if self._writer is not None:
            self._writer.join(timeout=30)
        self._writer = threading.Thread(target=run, daemon=True)
        self._writer.start()

    def close_stdin(self) -> None:
        if self._writer is not None:
            self._writer.join(timeout=30)
        try:
            if not self.proc.stdin.closed:
                self.proc.stdin.close()
        except OSError:
            pass

    # --- output --------------------------------------------------------------------------

    def _fill(self, timeout: float) -> bool:
        """Reads what is there within `timeout`; False on EOF or nothing."""
        if self._eof:
            return False
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], max(0.0, timeout))
        if not ready:
            return False
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            self._eof = True
            return False
        self._buf += chunk
        return True

    def read_line(self, timeout: float) -> bytes | None:
        """One complete stdout line (without the newline), or None at EOF or after `timeout`."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or self._eof:
                return None
            self._fill(left)
        line, self._buf = self._buf.split(b"\n", 1)
        return line

    def read_available(self, until: float) -> list[bytes]:
        """Every complete line that arrives before the monotonic instant `until` (or EOF)."""
        lines = []
        while True:
            while b"\n" in self._buf:
                line, self._buf = self._buf.split(b"\n", 1)
                lines.append(line)
            left = until - time.monotonic()
            if left <= 0 or self._eof:
                return lines
            self._fill(left)

    @property
    def at_eof(self) -> bool:
        return self._eof

    @property
    def partial(self) -> bytes:
        """Bytes of an unfinished last line (a response cut by a kill)."""
        return self._buf

    # --- end -----------------------------------------------------------------------------

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.killed = True
        self.proc.wait(timeout=10)

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        if self._writer is not None:
            self._writer.join(timeout=5)
        self._stderr.close()

    def __enter__(self) -> "Piped":
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()


def run_piped(binary: str, args: list[str], data: bytes, timeout: float,
              env: dict[str, str] | None = None) -> tuple[list[bytes], str, int | None, bytes]:
    """Feeds `data`, closes stdin, reads everything until EOF or `timeout` (then kills).
    Returns (stdout lines, stderr, exit status or None when it had to be killed, trailing bytes)."""
    with Piped(binary, args, env=env) as p:
        p.feed(data, close=True)
        deadline = time.monotonic() + timeout
        lines = p.read_available(deadline)
        rc = p.wait(max(0.1, deadline - time.monotonic()))
        if rc is None:
            p.kill()
        return lines, p.stderr(), rc, p.partial
