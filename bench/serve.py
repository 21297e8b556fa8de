"""Run one of the benchmark's apps under the server `b12-cds serve` uses, or under gunicorn.

    python -m bench.serve --app service|no-op --server granian|gunicorn --port P
                          [--workers 2] [--threads 4]

granian runs exactly as `b12-cds serve` runs it (service/server.py: the ASGI interface, the
buffering bridge, the same header timeout); gunicorn (2 workers x 4 gthread threads, timeout
30 s) is the server `serve` used before issue 9, kept here to measure one against the other. It
needs the bench extra: `pip install '.[bench]'`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from service import server


TARGETS = {
    ("granian", "service"): "bench.apps:service_asgi",
    ("granian", "no-op"): "bench.apps:noop_asgi",
    ("gunicorn", "service"): "bench.apps:service_app()",
    ("gunicorn", "no-op"): "bench.apps:noop_app()",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the chosen app in the foreground until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__)
    parser.add_argument("--app", choices=["service", "no-op"], required=True)
    parser.add_argument("--server", choices=["granian", "gunicorn"], default="granian")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    target = TARGETS[(args.server, args.app)]
    if args.server == "granian":
        server.run(
            server.ServeOptions(
                port=args.port, workers=args.workers, threads=args.threads, target=target
            )
        )
        return 0
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{args.port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--worker-class",
        "gthread" if args.threads > 1 else "sync",
        "--timeout",
        "30",
        "--no-control-socket",
        target,
    ]
    os.execv(sys.executable, command)  # noqa: S606 - our own fixed command line
    return 0  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
