"""``make load`` / ``python -m tests.load``: the people of 50 trusts using Fathom at once, on a stack of its own.

Starts the stack ``fathom up`` starts (:class:`fathom_infra.stack.LocalStack`: PostgreSQL, the broker, relay,
projector(s), API, reports, stream server, delivery, verifier) on free ports of 127.0.0.1 under a temporary
directory, creates and seeds the trusts through the API, waits until the projector has applied the seeding, runs
the locust scenario (:mod:`tests.load.locustfile`) headless, bounded in time and in requests, stops everything it
started (also on Ctrl-C or SIGTERM), prints the table and writes it into README.md between the load markers (one
block per projector count: a run with ``--projectors 3`` keeps the one-projector figures).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import tempfile
from pathlib import Path

from fathom_infra.stack import LocalStack
from fathom_shared.config import load_settings
from tests.bench.harness import interrupt_on, run_in, step
from tests.bench.report import read_region, write_readme
from tests.load.plan import seed
from tests.load.results import MARKERS, Outcome
from tests.load.scenario import run_scenario, wait_projected

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^<!-- projectors=(\d+) -->$", re.M)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.load", description=__doc__)
    parser.add_argument("--trusts", type=int, default=50, help="trusts to create and seed (default 50)")
    parser.add_argument("--users", type=int, default=60,
                        help="simulated people at once: integrations (one per integration trust) and, weighted "
                             "6:2:1:1, teachers, school leaders, trust leaders, auditors (default 60)")
    parser.add_argument("--seconds", type=int, default=120, help="how long the load runs (default 120)")
    parser.add_argument("--max-requests", type=int, default=50_000,
                        help="stop earlier once this many HTTP requests were sent (default 50,000)")
    parser.add_argument("--projectors", type=int, default=1, help="projector processes in the stack (default 1)")
    parser.add_argument("--integrations", type=int, default=None,
                        help="trusts with an integration following the feed and a webhook (default 1 in 5)")
    parser.add_argument("--no-readme", action="store_true", help="print the table only")
    parser.add_argument("--keep", action="store_true", help="keep the data directory (logs, locust CSV) afterwards")
    args = parser.parse_args(argv)
    if args.trusts < 1 or args.users < 1 or args.seconds < 1 or args.projectors < 1:
        parser.error("--trusts, --users, --seconds and --projectors must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    interrupt_on(signal.SIGINT, signal.SIGTERM)  # SIGINT too: a shell may start it with SIGINT ignored
    command = " ".join(["python -m tests.load", *(sys.argv[1:] if argv is None else argv)])
    load_before = os.getloadavg()[0]
    home = Path(tempfile.mkdtemp(prefix="fathom-load-"))
    for name in ("DATABASE_URL", "APP_DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        os.environ.pop(name, None)  # its own servers, whatever the shell points at
    stack = LocalStack(home, demo=False, restart=False, projectors=args.projectors, free_ports=True)
    outcome: Outcome | None = None
    with run_in(home, "load test", stack.stop, args.keep) as attempt:
        step("starting the stack (PostgreSQL, broker, relay, projector, API, reports, streams, delivery, verifier)")
        stack.start()
        settings = load_settings(stack.env)
        step(f"creating and seeding {args.trusts} trusts through the API")
        plan = seed(settings, stack.urls["api"], stack.urls["reports"], stack.urls["streams"], args.trusts,
                    prefix="load", integrations=args.integrations, say=print)
        metrics = stack.urls["projector"] + "/metrics"
        step("waiting for the projector to apply the seeding")
        wait_projected(plan, metrics)
        step(f"running the scenario: {args.users} people for {args.seconds} s (at most {args.max_requests:,} "
             "requests)")
        outcome = run_scenario(plan, home / "load", users=args.users, seconds=args.seconds,
                               max_requests=args.max_requests, metrics_url=metrics, groups=_groups(stack),
                               command=command, projectors=args.projectors,
                               projector_metrics={name: url + "/metrics" for name, url in stack.projector_urls.items()})
        outcome.load_before = load_before
        outcome.exited += [s.name for s in stack.services if not s.alive]
    if attempt.failed or outcome is None:
        return 1
    outcome.load_after = os.getloadavg()[0]
    table = outcome.markdown()
    print("\n" + table + "\n")
    if not args.no_readme:
        region = merge_blocks(read_region(ROOT / "README.md", MARKERS), args.projectors, table)
        print(write_readme(ROOT / "README.md", region, MARKERS))
    return 0 if outcome.met else 2


def _groups(stack: LocalStack) -> dict[str, int]:
    """Each process group the stack started (a gunicorn with its workers, PostgreSQL with its backends)."""
    groups = {s.name: s.process.pid for s in stack.services if s.process is not None}
    for server in (stack.postgres, stack.kafka):
        if server is not None and server.process is not None:
            groups[server.name] = server.process.pid
    return groups


def merge_blocks(region: str, projectors: int, table: str) -> str:
    """The README's load region with this run's block (per projector count) replaced, the others kept."""
    blocks: dict[int, str] = {}
    parts = BLOCK.split(region)
    for count, body in zip(parts[1::2], parts[2::2], strict=True):
        blocks[int(count)] = body.strip("\n")
    blocks[projectors] = table
    return "\n\n".join(f"<!-- projectors={n} -->\n{body}" for n, body in sorted(blocks.items()))


if __name__ == "__main__":
    sys.exit(main())
