"""``python -m fathom_projector [--metrics-port N] [--instance-id ID]`` runs the projector until SIGTERM/SIGINT.

Rebuilding read models is an operator command: ``fathom rebuild`` (serves the old models until it switches).

Settings come from the environment (:func:`fathom_shared.config.load_settings`).
"""

from __future__ import annotations

import argparse
import sys

from fathom_projector.service import run
from fathom_shared.config import load_settings
from fathom_shared.logs import configure_logging
from fathom_shared.process import stop_on_signals
from fathom_shared.production_check import exit_if_unsafe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fathom_projector", description=__doc__)
    parser.add_argument("--metrics-port", type=int, default=None,
                        help="serve /metrics, /healthz and /readyz on FATHOM_OPS_HOST (127.0.0.1):PORT "
                             "(default FATHOM_OPS_PORT; off if neither is given)")
    parser.add_argument("--instance-id", default=None,
                        help="static consumer-group member id, stable across restarts of this instance "
                             "(a restart then resumes at once; two live instances must not share one)")
    args = parser.parse_args(argv)
    configure_logging("projector")
    settings = load_settings()
    exit_if_unsafe(settings, "projector")

    stop = stop_on_signals()
    metrics_port = args.metrics_port if args.metrics_port is not None else settings.ops_port
    run(settings, stop, metrics_port=metrics_port, instance_id=args.instance_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
