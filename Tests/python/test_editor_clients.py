"""SPEC section 6 with the real clients: the JSON-RPC libraries editors ship drive credit-rpc
unmodified (the scripts in Tests/clients/, the same as the README's "From an editor").

Each script spawns the binary, does its library's standard setup, a handful of calls (a created
learner read back, an error checked for its code and data.reason), then 100 requests in a row, and
exits 0 only when every check holds. The clients are Debian packages that `scripts/setup --test`
installs; python-lsp-jsonrpc and jsonrpc-glib live in the system Python (/usr/bin/python3), not in
the one running pytest.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import REPO_ROOT, base_env, binary

CLIENTS = REPO_ROOT / "Tests" / "clients"
SYSTEM_PYTHON = "/usr/bin/python3"


def run_client(argv: list[str], tmp_path, expect: str) -> str:
    if shutil.which(argv[0]) is None:
        pytest.fail(f"{argv[0]} is not installed: run scripts/setup --test")
    env = base_env(CREDIT_RPC_BIN=binary(), HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"),
                   XDG_STATE_HOME=str(tmp_path / "state"), XDG_DATA_HOME=str(tmp_path / "data"))
    try:
        p = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(argv)} did not finish within 120 s (a hang)")
    assert p.returncode == 0 and f"{expect}: ok" in p.stdout, (
        f"{' '.join(argv)}: exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p.stdout


def test_emacs_jsonrpc_el(tmp_path):
    run_client(["emacs", "--batch", "-Q", "-l", str(CLIENTS / "emacs-jsonrpc.el")], tmp_path, "emacs jsonrpc.el")


def nvim_log_errors(tmp_path) -> list[str]:
    """The [ERROR] lines of Neovim's LSP log (0.7 keeps it under the cache folder)."""
    return [line for log in tmp_path.rglob("lsp.log") for line in log.read_text().splitlines()
            if line.startswith("[ERROR]")]


def test_neovim_vim_lsp_rpc(tmp_path):
    run_client(["nvim", "--headless", "-u", "NONE", "-c", f"luafile {CLIENTS / 'nvim-rpc.lua'}"], tmp_path,
               "nvim vim.lsp.rpc")
    # vim.lsp.rpc logs every stderr line as an error: under header framing the service is quiet there.
    assert nvim_log_errors(tmp_path) == []


def test_neovim_vim_lsp_start_client(tmp_path):
    run_client(["nvim", "--headless", "-u", "NONE", "-c", f"luafile {CLIENTS / 'nvim-lsp-client.lua'}"],
               tmp_path, "nvim vim.lsp.start_client")
    assert nvim_log_errors(tmp_path) == []


def test_python_lsp_jsonrpc(tmp_path):
    run_client([SYSTEM_PYTHON, str(CLIENTS / "pylsp_jsonrpc_client.py")], tmp_path, "python-lsp-jsonrpc")


def test_jsonrpc_glib(tmp_path):
    run_client([SYSTEM_PYTHON, str(CLIENTS / "jsonrpc_glib_client.py")], tmp_path, "jsonrpc-glib")
