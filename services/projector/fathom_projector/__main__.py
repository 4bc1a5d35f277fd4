"""``python -m fathom_projector [--metrics-port N] [--instance-id ID]`` runs the projector until SIGTERM/SIGINT.

Rebuilding read models is an operator command: ``fathom rebuild`` (serves the old models until it switches).

Settings come from the environment (:func:`fathom_shared.config.load_settings`).
"""

from __future__ import annotations

import argparse
import sys
import threading

from fathom_projector.service import run
from fathom_shared.config import Settings
from fathom_shared.process import run_process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fathom_projector", description=__doc__)
    parser.add_argument("--metrics-port", type=int, default=None,
                        help="serve /metrics, /healthz and /readyz on FATHOM_OPS_HOST (127.0.0.1):PORT "
                             "(default FATHOM_OPS_PORT; off if neither is given)")
    parser.add_argument("--instance-id", default=None,
                        help="static consumer-group member id, stable across restarts of this instance "
                             "(a restart then resumes at once; two live instances must not share one)")
    args = parser.parse_args(argv)

    def project(settings: Settings, stop: threading.Event) -> None:
        metrics_port = args.metrics_port if args.metrics_port is not None else settings.ops_port
        run(settings, stop, metrics_port=metrics_port, instance_id=args.instance_id)

    run_process("projector", project)
    return 0


if __name__ == "__main__":
    sys.exit(main())
