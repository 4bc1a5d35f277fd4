"""The ``fathom`` command: tokens, migrations, trusts, and ``fathom up`` (what ``make run`` calls)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from fathom_infra.rebuild_cli import add_rebuild_parser
from fathom_shared.auth import ROLES, load_or_create_signing_key, mint_token
from fathom_shared.config import load_settings


def cmd_token(args: argparse.Namespace) -> int:
    settings = load_settings()
    key = load_or_create_signing_key(settings.signing_key_path)
    print(mint_token(key, issuer=settings.jwt_issuer, audience=settings.jwt_audience, trust=args.trust,
                     roles=args.role, sub=args.sub, schools=args.school, classes=getattr(args, "class"),
                     ttl_seconds=args.ttl))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from fathom_shared.migrate import migrate

    migrate(load_settings().database_url, os.environ.get("FATHOM_APP_DB_PASSWORD", "fathom_app"))
    print("migrated to head")
    return 0


def cmd_trust(args: argparse.Namespace) -> int:
    """Tenant provisioning as the owner role; a suspension reaches the APIs within their status cache's TTL."""
    from fathom_shared import trusts
    from fathom_shared.db import make_engine

    engine = make_engine(load_settings().database_url, pool_size=1)
    try:
        if args.action == "create":
            trusts.create_trust(engine, args.trust_id, args.name or args.trust_id)
            print(f"created trust {args.trust_id}")
        elif args.action in ("suspend", "resume"):
            status = "suspended" if args.action == "suspend" else "active"
            previous = trusts.set_trust_status(engine, args.trust_id, status)
            print(f"trust {args.trust_id} is {status}" + (" (unchanged)" if previous == status else ""))
        else:
            print("TRUST\tSTATUS\tCREATED\tNAME")
            for info in trusts.list_trusts(engine):
                print(f"{info.trust_id}\t{info.status}\t{info.created_at:%Y-%m-%d}\t{info.name}")
    except trusts.TrustExists:
        print(f"error: trust {args.trust_id} already exists", file=sys.stderr)
        return 1
    except trusts.NoSuchTrust:
        print(f"error: no trust {args.trust_id}", file=sys.stderr)
        return 1
    except trusts.InvalidTrustId as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Recompute a trust's hash chain; exit 1 (naming the first broken link) if it does not hold."""
    from fathom_reports.audit.verify import verify_trust
    from fathom_shared.db import make_engine
    from fathom_shared.trusts import list_trusts

    engine = make_engine(load_settings().database_url, pool_size=1)
    try:
        if args.trust not in {row[0] for row in list_trusts(engine)}:
            print(f"no trust {args.trust}", file=sys.stderr)
            return 1
        result = verify_trust(engine, args.trust)
    finally:
        engine.dispose()
    print(result.describe(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def cmd_relay(args: argparse.Namespace) -> int:
    from fathom_relay.relay import main

    main()
    return 0


def cmd_remove_projector(args: argparse.Namespace) -> int:
    """Take a dead projector's static member out of the consumer group, so the others take its partitions now.

    A stopped projector leaves by itself; one killed outright keeps its partitions until the broker's session
    timeout expires it (Apache Kafka: 6 s; the local noida-db broker: never) or it is restarted under its id.
    """
    from fathom_projector.membership import leave_group
    from fathom_shared.kafka import BrokerAccess

    settings = load_settings()
    if not leave_group(BrokerAccess.from_settings(settings), settings.projector_group, args.instance_id):
        print(f"could not remove {args.instance_id} from group {settings.projector_group}", file=sys.stderr)
        return 1
    print(f"removed {args.instance_id} from group {settings.projector_group}; the others take its partitions")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from fathom_infra.stack import LocalStack

    stack = LocalStack(Path(args.home).resolve(), demo=not args.no_demo, restart=not args.no_restart,
                       replica=args.replica, projectors=args.projectors)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stack.start()
        print(stack.banner(), flush=True)
        stack.watch(stop)
    finally:
        print("\nstopping…", flush=True)
        stack.stop()
        print("stopped everything fathom up started.", flush=True)
    return stack.exit_code


def _at_least_one(value: str) -> int:
    count = int(value)
    if count < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return count


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fathom", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    token = sub.add_parser("token", help="mint a development token (RS256, the local signing key)")
    token.add_argument("--trust", required=True)
    token.add_argument("--role", action="append", required=True, choices=sorted(ROLES),
                       help="repeat for several roles")
    token.add_argument("--school", action="append", default=[], help="a school the holder leads (repeatable)")
    token.add_argument("--class", action="append", default=[], help="a class the holder teaches (repeatable)")
    token.add_argument("--sub", default="dev-user", help="the subject (who), recorded on every event")
    token.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds (default 8 h)")
    token.set_defaults(func=cmd_token)

    migrate = sub.add_parser("migrate", help="apply database migrations (DATABASE_URL, as the owner)")
    migrate.set_defaults(func=cmd_migrate)

    trust = sub.add_parser("trust", help="tenant provisioning: create, list, suspend, resume")
    trust.add_argument("action", choices=["create", "list", "suspend", "resume"])
    trust.add_argument("trust_id", nargs="?", help="lower-case letters, digits and '-' (2-63 characters)")
    trust.add_argument("--name", help="display name (create; default: the id)")
    trust.set_defaults(func=cmd_trust)

    verify = sub.add_parser("verify", help="recompute a trust's event hash chain; exit 1 at the first broken link")
    verify.add_argument("--trust", required=True)
    verify.set_defaults(func=cmd_verify)

    add_rebuild_parser(sub)

    relay = sub.add_parser("relay", help="run the event relay (event store → Kafka)")
    relay.set_defaults(func=cmd_relay)

    remove = sub.add_parser("remove-projector", help="take a dead projector out of the consumer group "
                                                     "(its partitions go to the others at once)")
    remove.add_argument("instance_id", help="its --instance-id (fathom up: local-projector-<i>)")
    remove.set_defaults(func=cmd_remove_projector)

    up = sub.add_parser("up", help="start PostgreSQL, the broker, all services and the demo trust")
    up.add_argument("--home", default=os.environ.get("FATHOM_HOME", ".fathom"),
                    help="where local server data and logs live (default .fathom)")
    up.add_argument("--no-demo", action="store_true", help="do not load the demo trust")
    up.add_argument("--no-restart", action="store_true",
                    help="stop everything when any process exits, instead of restarting it (for debugging)")
    up.add_argument("--replica", action="store_true",
                    help="also start a hot standby of the local PostgreSQL and serve the reports' reads from it")
    up.add_argument("--projectors", type=_at_least_one, default=1, metavar="N",
                    help="projector processes sharing the events topic as one consumer group (default 1; at "
                         "most FATHOM_TOPIC_PARTITIONS, default 12, have work)")
    up.set_defaults(func=cmd_up)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "trust" and args.action != "list" and not args.trust_id:
        build_parser().error("trust create/suspend/resume need a trust id")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
