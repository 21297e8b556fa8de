"""Real servers for the tests, on 127.0.0.1: `b12-cds serve` itself, and system binaries.

Every server is started as a subprocess on a free loopback port and stopped by its PID (its
process group, so workers go with it). A system binary that is missing fails the test in CI
(`CI` set: `.ci/run` installs it) and skips it on a developer's machine.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def require_binary(name: str, package: str) -> str:
    """Return the path of a system binary; fail in CI, skip elsewhere, when it is missing."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; .ci/run installs {package}")
        pytest.skip(f"{name} is not installed here (apt-get install {package})")
    return found


def environment(variables: Mapping[str, Any]) -> dict[str, str]:
    """Return this process's environment without B12CDS_ keys, plus the given ones (JSON)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("B12CDS_")}
    for name, value in variables.items():
        env[f"B12CDS_{name}"] = value if isinstance(value, str) else json.dumps(value)
    return env


class LiveServer:
    """A running `b12-cds serve`: its base URL, process and captured output."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log

    def log(self) -> str:
        """Return what the server has written to stdout and stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout_s: float = 15) -> int:
        """Stop the server (SIGTERM to its process group, then SIGKILL); return its exit code."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout_s)
        return int(self.process.returncode)


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    """Wait until GET {url}/healthz answers 200, or fail (the server exited or is too slow)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError("the server was not ready in time")


@contextmanager
def live_server(
    tmp_path: Path,
    *args: str,
    name: str = "serve",
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    **variables: Any,
) -> Iterator[LiveServer]:
    """Run `b12-cds serve ARGS` with only the given B12CDS_ variables; stop it afterwards.

    `env` adds other environment variables as they are (HOME, for instance).

    Output goes to `tmp_path/<name>.log`. `DATABASE_URL` defaults to a SQLite file in
    `tmp_path`, so servers of one test share it and tests never share one.
    """
    port = port or free_port()
    variables.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'b12cds.sqlite'}")
    log = tmp_path / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port), *args],
            cwd=ROOT,
            env={**environment(variables), **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with every worker
        )
    server = LiveServer(process, port, log)
    try:
        wait_ready(server.url, process)
    except RuntimeError as exc:
        server.stop()
        pytest.fail(f"{exc}:\n{server.log()}")
    try:
        yield server
    finally:
        server.stop()
