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
import tempfile
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


def require_postgres() -> Path:
    """Return the folder of the PostgreSQL server binaries (initdb, postgres); fail in CI, skip
    elsewhere, when they are missing. Debian keeps them off PATH, in /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found is not None and shutil.which("postgres", path=str(Path(found).parent)):
        return Path(found).parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates and (candidates[-1].parent / "postgres").exists():
        return candidates[-1].parent
    require_binary("initdb", "postgresql")  # fails in CI, skips elsewhere
    raise AssertionError("unreachable")  # pragma: no cover


def _as_unprivileged(command: list[str]) -> list[str]:
    """Return a command run as `nobody` when this process is root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "nobody", "--", *command]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Run a throw-away PostgreSQL on 127.0.0.1 (trust auth, its socket in its own folder);
    yield a `postgresql+psycopg://` URL; stop it by its PID afterwards.

    Its folder is made with `tempfile` rather than under pytest's `tmp_path`, whose parents are
    private to the user running the tests: as root, the server runs as `nobody`, which must own
    its data folder and reach it.
    """
    import psycopg

    binaries = require_postgres()
    folder = Path(tempfile.mkdtemp(prefix="b12cds-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        for path in (folder, sockets):
            os.chown(path, 65534, 65534)
    port = free_port()
    process: subprocess.Popen[bytes] | None = None
    log = folder / "postgres.log"
    try:
        subprocess.run(
            _as_unprivileged(
                [str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=120,
        )
        with log.open("ab") as out:
            process = subprocess.Popen(
                _as_unprivileged(
                    [
                        str(binaries / "postgres"),
                        *("-D", str(data), "-p", str(port), "-k", str(sockets)),
                        *("-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"),
                    ]
                ),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(
                    f"host=127.0.0.1 port={port} user=postgres dbname=postgres", connect_timeout=2
                ).close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"postgres did not start:\n{log.read_text(errors='replace')}")
                time.sleep(0.1)
        yield url
    finally:
        if process is not None and process.poll() is None:
            _stop_postgres(process, data)
        shutil.rmtree(folder, ignore_errors=True)


def _stop_postgres(process: subprocess.Popen[bytes], data: Path) -> None:
    """Fast shutdown (SIGINT) of the postmaster by its PID, then its process group if need be."""
    pid_file = data / "postmaster.pid"
    try:
        os.kill(int(pid_file.read_text().splitlines()[0]), signal.SIGINT)
    except (OSError, ValueError, IndexError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
