"""``python -m fathom_projector [--metrics-port N] [--instance-id ID]`` runs the projector until SIGTERM/SIGINT;
``python -m fathom_projector rebuild TRUST_ID`` rebuilds one trust's read models, with progress.

Settings come from the environment (:func:`fathom_shared.config.load_settings`).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from tqdm import tqdm

from fathom_projector.rebuild import rebuild_trust
from fathom_projector.service import run
from fathom_shared.config import load_settings
from fathom_shared.db import make_engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fathom_projector", description=__doc__)
    parser.add_argument("--metrics-port", type=int, default=None,
                        help="serve /metrics, /healthz and /readyz on 127.0.0.1:PORT (off if omitted)")
    parser.add_argument("--instance-id", default=None,
                        help="static consumer-group member id, stable across restarts of this instance "
                             "(a restart then resumes at once; two live instances must not share one)")
    commands = parser.add_subparsers(dest="command")
    rebuild = commands.add_parser("rebuild", help="rebuild one trust's read models from the event store")
    rebuild.add_argument("trust_id")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()

    if args.command == "rebuild":
        engine = make_engine(settings.app_database_url, pool_size=1)
        try:
            with tqdm(desc=f"rebuilding {args.trust_id}", unit="event") as bar:
                replayed = rebuild_trust(engine, args.trust_id, progress=lambda n: bar.update(n - bar.n))
        finally:
            engine.dispose()
        print(f"rebuilt {args.trust_id}: {replayed} events replayed")
        return 0

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run(settings, stop, metrics_port=args.metrics_port, instance_id=args.instance_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
