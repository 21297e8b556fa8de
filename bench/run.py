"""Benchmark: the patient-view service against a no-op Flask endpoint, behind the same server.

    python -m bench.run [--seconds 10] [--warmup 2] [--connections 1,8] [--server granian]

Starts two servers on free 127.0.0.1 ports (bench/serve.py), as `b12-cds serve` runs them
(granian; `--server gunicorn` measures the server `serve` used before): the real service
(`bench.apps:service_asgi`) and a no-op Flask app that only parses the JSON body
(`bench.apps:noop_asgi`). For each connection count it runs a closed loop
(N keep-alive connections, one client process each, the same POST back-to-back) first against
the no-op server, then against the service, and prints req/s, p50 and p99 for both and the ratio.
Results also go to bench/results/latest.json. A measurement: it exits 0 whether or not the
targets hold (ratio >= 0.5 and service p99 <= 50 ms, both at 8 connections).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import chart


REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
PATH = f"/cds-services/{chart.SERVICE_ID}"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}

# `b12-cds serve` defaults (service/cli.py): 2 workers x 4 threads.
# --workers / --threads change them for experiments; the README's figures use these.
WORKERS = 2
THREADS = 4
TIMEOUT_S = 30

TARGET_RATIO = 0.5  # service req/s / no-op req/s, at TARGET_CONNECTIONS
TARGET_P99_MS = 50.0  # service p99, at TARGET_CONNECTIONS
TARGET_CONNECTIONS = 8
OTHER_CPU_LIMIT = 0.2  # cores used by other processes above which a run is flagged as not clean

APPS = ("no-op", "service")


@dataclass
class Result:
    """One closed-loop run against one server."""

    server: str
    connections: int
    seconds: float
    requests: int
    errors: int
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    max_ms: float | None
    client_cores: float | None  # CPU the load generator used, in cores (of os.cpu_count())
    server_cores: float | None  # CPU the server's main process and workers used, in cores
    other_cores: float | None  # CPU everything else on the machine used: should be about 0
    conn_p50_ms: list[float]  # p50 of each connection: a wide spread means uneven workers
    connections_per_worker: list[int] | None  # keep-alive connections each worker held, mid-run


# --- servers -------------------------------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One server (bench/serve.py) in its own process group, logging to bench/results/."""

    def __init__(
        self, name: str, kind: str, workers: int = WORKERS, threads: int = THREADS
    ) -> None:
        self.name = name
        self.kind = kind  # granian (as `b12-cds serve`) or gunicorn (before issue 9)
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.log_path = RESULTS / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server (returns at once; see wait_ready)."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
        command = [
            sys.executable,
            "-m",
            "bench.serve",
            "--app",
            self.name,
            "--server",
            self.kind,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
        ]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - our own fixed command line
                command,
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches only us; we stop the server ourselves
            )

    def wait_ready(self, body: bytes, timeout_s: float = 60.0) -> dict[str, Any]:
        """Wait until both workers answer the benchmark request with 200; return its JSON."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited; see {self.log_path}")
            if len(self.worker_pids()) >= self.workers:
                try:
                    status, answer = post_once(self.port, body)
                except OSError:
                    status, answer = 0, b""
                if status == 200:
                    return dict(json.loads(answer))
                if status:
                    raise RuntimeError(f"{self.name} answered {status}: {answer[:300]!r}")
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} server not ready after {timeout_s:.0f} s")

    def worker_pids(self) -> list[int]:
        """Return the pids of the server's workers (children of its main process)."""
        return children(self.proc.pid) if self.proc is not None else []

    def pids(self) -> list[int]:
        """Return the master's pid and its workers'."""
        return [self.proc.pid, *self.worker_pids()] if self.proc is not None else []

    def stop(self) -> None:
        """Stop the server: SIGTERM to the main process (graceful), SIGKILL if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def post_once(port: int, body: bytes) -> tuple[int, bytes]:
    """POST the body once on a fresh connection; return the status and the answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", PATH, body, HEADERS)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- CPU accounting (Linux /proc; None elsewhere) ------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def children(pid: int) -> list[int]:
    """Return the pids whose parent is `pid` (Linux /proc; empty elsewhere)."""
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def connections_per_worker(port: int, worker_pids: Sequence[int]) -> list[int] | None:
    """Return how many established connections to `port` each worker holds (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:  # 01: ESTABLISHED
                inodes.add(f"socket:[{inode}]")
    if not inodes:
        return None
    counts = []
    for pid in worker_pids:
        held = 0
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            return None
        for fd in fds:
            try:
                held += os.readlink(f"/proc/{pid}/fd/{fd}") in inodes
            except OSError:
                continue
        counts.append(held)
    return sorted(counts, reverse=True)


def machine_busy_seconds() -> float | None:
    """Return the CPU time all cores spent not idle since boot (Linux /proc/stat)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / _TICK  # user nice system idle iowait irq softirq steal


def cpu_seconds(pids: Sequence[int]) -> float | None:
    """Return the user+system CPU time of these processes (all their threads), in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / _TICK


# --- load generator ------------------------------------------------------------------------------


def _sleep_until(when: float) -> None:
    while (left := when - time.monotonic()) > 0:
        time.sleep(min(left, 0.05))


def _connect(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S + 5)


def client_loop(
    port: int, body: bytes, start_at: float, measure_from: float, stop_at: float
) -> tuple[list[float], int]:
    """One keep-alive connection sending the body back-to-back until stop_at.

    Returns the latencies (s) of the successful requests that completed inside
    [measure_from, stop_at] and the number of failed ones there. CLOCK_MONOTONIC is
    system-wide on Linux, so the window is the same in every client process.
    """
    latencies: list[float] = []
    errors = 0
    _sleep_until(start_at)
    conn = _connect(port)
    while (started := time.monotonic()) < stop_at:
        try:
            conn.request("POST", PATH, body, HEADERS)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
            if response.will_close:
                conn.close()
                conn = _connect(port)
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = _connect(port)
        ended = time.monotonic()
        if measure_from <= ended <= stop_at:
            if ok:
                latencies.append(ended - started)
            else:
                errors += 1
    conn.close()
    return latencies, errors


def _client_process(out: Any, *args: Any) -> None:
    try:
        out.put(client_loop(*args))
    except BaseException:  # noqa: BLE001 - report, never hang the parent
        out.put(([], -1))


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    """Return the nearest-rank p-th percentile of sorted values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def run_load(
    server: Server, body: bytes, connections: int, warmup_s: float, seconds: float
) -> Result:
    """Run a closed loop of `connections` client processes against one server."""
    ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    out = ctx.Queue()
    start_at = time.monotonic() + 1.0  # time for the client processes to start
    measure_from = start_at + warmup_s
    stop_at = measure_from + seconds
    procs = [
        ctx.Process(
            target=_client_process,
            args=(out, server.port, body, start_at, measure_from, stop_at),
            daemon=True,
        )
        for _ in range(connections)
    ]
    for proc in procs:
        proc.start()
    try:
        client_pids = [p.pid for p in procs if p.pid is not None]
        _sleep_until(measure_from)
        c0, s0, m0 = cpu_seconds(client_pids), cpu_seconds(server.pids()), machine_busy_seconds()
        _sleep_until(measure_from + seconds / 2)
        held = connections_per_worker(server.port, server.worker_pids())
        _sleep_until(stop_at)
        c1, s1, m1 = cpu_seconds(client_pids), cpu_seconds(server.pids()), machine_busy_seconds()
        latencies: list[float] = []
        conn_p50: list[float] = []
        errors = 0
        for _ in procs:
            lat, err = out.get(timeout=TIMEOUT_S + 30)
            if err < 0:
                raise RuntimeError("a client process failed")
            latencies.extend(lat)
            errors += err
            if lat:
                conn_p50.append(round(1000 * (percentile(sorted(lat), 50) or 0.0), 1))
        for proc in procs:
            proc.join(timeout=10)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
    latencies.sort()
    ms = [x * 1000 for x in latencies]
    client = None if c0 is None or c1 is None else (c1 - c0) / seconds
    served = None if s0 is None or s1 is None else (s1 - s0) / seconds
    other = None
    if m0 is not None and m1 is not None and client is not None and served is not None:
        other = max(0.0, (m1 - m0) / seconds - client - served)
    return Result(
        server=server.name,
        connections=connections,
        seconds=seconds,
        requests=len(ms),
        errors=errors,
        rps=len(ms) / seconds,
        p50_ms=percentile(ms, 50),
        p99_ms=percentile(ms, 99),
        mean_ms=sum(ms) / len(ms) if ms else None,
        max_ms=ms[-1] if ms else None,
        client_cores=client,
        server_cores=served,
        other_cores=other,
        conn_p50_ms=sorted(conn_p50),
        connections_per_worker=held,
    )


# --- report --------------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(results: Sequence[Result]) -> None:
    """Print one line per run."""
    head = (
        f"{'server':8} {'conns':>5} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} {'client CPU':>10} {'server CPU':>10} {'other CPU':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r.server:8} {r.connections:5d} {r.requests:8d} {r.rps:8.1f} "
            f"{_fmt(r.p50_ms, '8.1f')} {_fmt(r.p99_ms, '8.1f')} {r.errors:6d} "
            f"{_fmt(r.client_cores, '10.2f')} {_fmt(r.server_cores, '10.2f')} "
            f"{_fmt(r.other_cores, '9.2f')}"
        )
    busy = [r for r in results if r.other_cores is not None and r.other_cores > OTHER_CPU_LIMIT]
    if busy:
        print(
            f"WARNING: other processes used > {OTHER_CPU_LIMIT} core during "
            + ", ".join(f"{r.server} x{r.connections}" for r in busy)
            + ": those figures are not clean; rerun on a quiet machine."
        )


def verdict(results: Sequence[Result]) -> dict[str, Any]:
    """Return the ratio per connection count and whether the two targets hold."""
    by = {(r.server, r.connections): r for r in results}
    ratios: dict[str, float | None] = {}
    for n in sorted({r.connections for r in results}):
        noop, service = by.get(("no-op", n)), by.get(("service", n))
        ratios[str(n)] = service.rps / noop.rps if noop and service and noop.rps else None
    service_at_target = by.get(("service", TARGET_CONNECTIONS))
    ratio = ratios.get(str(TARGET_CONNECTIONS))
    p99 = service_at_target.p99_ms if service_at_target else None
    return {
        "ratio_service_to_noop": ratios,
        "targets": {
            "ratio": {
                "connections": TARGET_CONNECTIONS,
                "target": f">= {TARGET_RATIO}",
                "measured": ratio,
                "holds": None if ratio is None else ratio >= TARGET_RATIO,
            },
            "service_p99_ms": {
                "connections": TARGET_CONNECTIONS,
                "target": f"<= {TARGET_P99_MS}",
                "measured": p99,
                "holds": None if p99 is None else p99 <= TARGET_P99_MS,
            },
        },
    }


def _holds(flag: bool | None) -> str:
    return {None: "NOT MEASURED", True: "HOLDS", False: "MISSED"}[flag]


def print_verdict(summary: dict[str, Any]) -> None:
    """Print the ratios and the two targets."""
    print()
    for n, ratio in summary["ratio_service_to_noop"].items():
        print(f"ratio service/no-op req/s at {n} connection(s): {_fmt(ratio, '.3f')}")
    t = summary["targets"]
    ratio, p99 = t["ratio"], t["service_p99_ms"]
    print(
        f"target: ratio >= {TARGET_RATIO} at {TARGET_CONNECTIONS} connections: "
        f"{_holds(ratio['holds'])} ({_fmt(ratio['measured'], '.3f')})"
    )
    print(
        f"target: service p99 <= {TARGET_P99_MS:.0f} ms at {TARGET_CONNECTIONS} connections: "
        f"{_holds(p99['holds'])} ({_fmt(p99['measured'], '.1f')} ms)"
    )


# --- main ----------------------------------------------------------------------------------------


def git_commit() -> str | None:
    """Return the checked-out commit (short), with `+dirty` when service/ or cards/ changed."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "service", "cards"],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
    except OSError:
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured time per run")
    parser.add_argument(
        "--connections", default="1,8", help="comma-separated connection counts (default 1,8)"
    )
    parser.add_argument(
        "--server",
        choices=["granian", "gunicorn"],
        default="granian",
        help="granian, as `b12-cds serve` (default), or gunicorn, the server it used before",
    )
    parser.add_argument("--workers", type=int, default=WORKERS, help="worker processes (2)")
    parser.add_argument("--threads", type=int, default=THREADS, help="threads per worker (4)")
    args = parser.parse_args(argv)
    try:
        args.connections = [int(n) for n in args.connections.split(",") if n.strip()]
    except ValueError:
        parser.error("--connections: comma-separated integers, e.g. 1,8")
    if not args.connections or min(args.connections) < 1 or max(args.connections) > 64:
        parser.error("--connections: each between 1 and 64")
    if not 1 <= args.workers <= 16 or not 1 <= args.threads <= 64:
        parser.error("--workers in [1, 16], --threads in [1, 64]")
    if not 0 < args.seconds <= 300 or not 0 <= args.warmup <= 60:
        parser.error("--seconds in (0, 300], --warmup in [0, 60]")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 0 whether or not the targets hold."""
    args = parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)  # progress lines show up when piped
    RESULTS.mkdir(parents=True, exist_ok=True)
    request = chart.build_request()
    body = chart.body_bytes(request)
    resources = sum(chart.count_resources(request).values())
    cores = os.cpu_count() or 0
    worker_class = "asgi bridge" if args.server == "granian" else "gthread"
    if args.server == "gunicorn" and args.threads == 1:
        worker_class = "sync"
    same = (args.server, args.workers, args.threads) == ("granian", WORKERS, THREADS)
    as_serve = ", as `b12-cds serve`" if same else ", NOT the `b12-cds serve` defaults"
    commit = git_commit()
    print(
        f"b12-cds benchmark at {commit or 'unknown commit'}: {chart.SERVICE_ID}, "
        f"{resources} prefetched resources, {len(body) / 1024:.0f} KiB body, T = {chart.T}"
    )
    print(
        f"{args.server}: {args.workers} workers x {args.threads} threads ({worker_class})"
        f"{as_serve if args.server == 'granian' else ', the server `serve` used before'}; "
        f"{args.warmup:g} s warm-up + {args.seconds:g} s measured per run; "
        f"one client process per connection"
    )
    print(
        f"NOTE: the load generator and both servers share this machine's {cores} core(s); "
        f"'client CPU', 'server CPU' and 'other CPU' (everything else) are the cores each used "
        f"during the measured window."
    )
    servers = [Server(name, args.server, args.workers, args.threads) for name in APPS]
    results: list[Result] = []
    try:
        for server in servers:
            server.start()
        for server in servers:
            answer = server.wait_ready(body)
            rules = [c["source"]["topic"]["code"] for c in answer.get("cards", [])]
            print(f"{server.name} ready on 127.0.0.1:{server.port}; cards: {rules or 'none'}")
            if server.name == "service" and not rules:
                raise RuntimeError("the service returned no cards: the rules did no real work")
        print()
        for n in args.connections:
            for server in servers:
                result = run_load(server, body, n, args.warmup, args.seconds)
                results.append(result)
                spread, held = result.conn_p50_ms, result.connections_per_worker
                extra = ""
                if n > 1 and spread:
                    extra = f"; per-connection p50 {spread[0]}-{spread[-1]} ms"
                if n > 1 and held:
                    extra += "; connections per worker " + "+".join(map(str, held))
                print(
                    f"  {server.name:8} {n:2d} conn: {result.rps:7.1f} req/s, "
                    f"p50 {_fmt(result.p50_ms, '.1f')} ms, p99 {_fmt(result.p99_ms, '.1f')} ms"
                    + extra
                )
    except KeyboardInterrupt:
        print("\ninterrupted; stopping the servers", file=sys.stderr)
        return 130
    finally:
        for server in servers:
            server.stop()
    print()
    print_table(results)
    summary = verdict(results)
    print_verdict(summary)
    report = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "commit": commit,
        "machine": {
            "cores": cores,
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "config": {
            "server": args.server,
            "workers": args.workers,
            "threads": args.threads,
            "worker_class": worker_class,
            "as_b12_cds_serve": same,
            "warmup_s": args.warmup,
            "seconds": args.seconds,
            "connections": args.connections,
            "client": "one process per connection, http.client keep-alive, closed loop",
            "resources": resources,
            "body_bytes": len(body),
            "today": chart.T,
        },
        "results": [asdict(r) for r in results],
        "clean": all(r.other_cores is None or r.other_cores <= OTHER_CPU_LIMIT for r in results),
        **summary,
    }
    out = RESULTS / "latest.json"
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
