"""Slow clients: does the server keep answering others while 64 + 64 connections stall?

    python -m bench.slow [--server granian|gunicorn] [--slow 64] [--seconds 10] [--connections 4]

Starts the service as `b12-cds serve` runs it (bench/serve.py) and measures a closed loop of
normal patient-view requests (bench/run.py's load, the same 300-resource chart) twice: first
alone, then while `--slow` connections send half their headers and `--slow` more send full
headers and then drip their body, one byte a second each. It prints p50 and p99 of the normal
requests in both phases and when the server dropped the slow connections (its header and body
timeouts). Every connection goes to 127.0.0.1; the slow clients stop by themselves after
`--seconds` plus the warm-up, whatever the server does. Results go to bench/results/slow.json.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from bench import chart
from bench.run import PATH
from bench.run import RESULTS
from bench.run import Result
from bench.run import Server
from bench.run import git_commit
from bench.run import percentile
from bench.run import run_load


DRIP_INTERVAL_S = 1.0


@dataclass
class SlowClients:
    """Connections that stall: half-sent headers, or full headers and a dripped body."""

    port: int
    count: int  # of each kind
    stop_at: float
    opened: int = 0
    dropped_after_s: dict[str, list[float]] = field(
        default_factory=lambda: {"header": [], "body": []}
    )

    def run(self) -> None:
        """Open every connection, drip one byte a second on each, note when the server drops it."""
        live: list[tuple[str, socket.socket, float]] = []
        for kind in ("header", "body"):
            for _ in range(self.count):
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                start = f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                if kind == "body":
                    start += "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
                sock.sendall(start.encode())
                sock.setblocking(False)
                live.append((kind, sock, time.monotonic()))
                self.opened += 1
        while live and time.monotonic() < self.stop_at:
            time.sleep(DRIP_INTERVAL_S)
            still: list[tuple[str, socket.socket, float]] = []
            for kind, sock, opened in live:
                if _dropped(sock, b"X-Slow: 1\r\n" if kind == "header" else b" "):
                    self.dropped_after_s[kind].append(round(time.monotonic() - opened, 1))
                    sock.close()
                else:
                    still.append((kind, sock, opened))
            live = still
        for _, sock, _ in live:
            sock.close()


def _dropped(sock: socket.socket, drip: bytes) -> bool:
    """Return whether the server closed (or answered) the connection; else send one more byte."""
    try:
        if sock.recv(4096) is not None:
            return True  # an answer (a refusal) or end of stream: the server let go
    except BlockingIOError:
        pass
    except OSError:
        return True
    try:
        sock.send(drip)
    except OSError:
        return True
    return False


def summary(result: Result) -> dict[str, Any]:
    """Return the figures of one phase."""
    return {
        "requests": result.requests,
        "errors": result.errors,
        "rps": round(result.rps, 1),
        "p50_ms": None if result.p50_ms is None else round(result.p50_ms, 1),
        "p99_ms": None if result.p99_ms is None else round(result.p99_ms, 1),
        "max_ms": None if result.max_ms is None else round(result.max_ms, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run both phases; exit 0 whatever the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.slow", description=__doc__)
    parser.add_argument("--server", choices=["granian", "gunicorn"], default="granian")
    parser.add_argument("--slow", type=int, default=64, help="slow connections of each kind")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per phase")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=4, help="normal clients")
    parser.add_argument(
        "--hold",
        type=float,
        default=30.0,
        help="how long the slow clients keep dripping at most (past the server's timeouts)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.slow <= 256 or not 0 < args.seconds <= 120 or not 1 <= args.connections <= 16:
        parser.error("--slow in [1, 256], --seconds in (0, 120], --connections in [1, 16]")
    if not args.warmup + args.seconds <= args.hold <= 120:
        parser.error("--hold in [warm-up + seconds, 120]")
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    body = chart.body_bytes(chart.build_request())
    server = Server("service", args.server)
    try:
        server.start()
        server.wait_ready(body)
        alone = run_load(server, body, args.connections, args.warmup, args.seconds)
        print(f"{args.server}: {args.connections} normal connection(s) alone: {summary(alone)}")
        slow = SlowClients(server.port, args.slow, time.monotonic() + args.hold)
        attacker = threading.Thread(target=slow.run, daemon=True)
        attacker.start()
        time.sleep(1.0)  # every slow connection is open before the measured window starts
        attacked = run_load(server, body, args.connections, args.warmup - 1.0, args.seconds)
        attacker.join(timeout=args.hold + 30)
    finally:
        server.stop()
    print(
        f"{args.server}: the same while {slow.opened} slow connections were open: "
        f"{summary(attacked)}"
    )
    for kind, times in slow.dropped_after_s.items():
        drop = (
            f"none dropped within {args.hold:g} s" if not times else f"{len(times)} dropped after "
        )
        if times:
            ordered = sorted(times)
            drop += f"{ordered[0]}-{ordered[-1]} s (median {percentile(ordered, 50)} s)"
        print(f"  slow {kind} connections: {drop}")
    report = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": git_commit(),
        "server": args.server,
        "slow_connections_per_kind": args.slow,
        "normal_connections": args.connections,
        "seconds": args.seconds,
        "hold_s": args.hold,
        "alone": summary(alone),
        "with_slow_clients": summary(attacked),
        "dropped_after_s": slow.dropped_after_s,
        "raw": {"alone": asdict(alone), "with_slow_clients": asdict(attacked)},
    }
    (RESULTS / f"slow-{args.server}.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
