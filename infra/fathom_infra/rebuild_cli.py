"""``fathom rebuild [--trust T] [--model NAME] [--restart]``: online read-model rebuilds with a progress bar.

The services keep serving the old read models until each trust's switch commits (see
:mod:`fathom_projector.online_rebuild`). Interrupting (Ctrl-C, SIGTERM, even SIGKILL) loses
at most one chunk: running the same command again resumes where the replay stopped.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from types import FrameType
from typing import TYPE_CHECKING

from tqdm import tqdm

from fathom_shared.config import load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from fathom_projector.online_rebuild import Progress

MODEL_HELP = "one read model (the rm_* table without its prefix), e.g. judgements or pupil_objective"


def add_rebuild_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from fathom_projector.shadow import MODELS

    rebuild = sub.add_parser("rebuild", help="rebuild read models from the event store while the services run",
                             description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rebuild.add_argument("--trust", help="one trust (default: every trust, one after another)")
    rebuild.add_argument("--model", choices=sorted(MODELS), metavar="NAME",
                         help=f"{MODEL_HELP}; one of: {', '.join(sorted(MODELS))} (default: all)")
    rebuild.add_argument("--restart", action="store_true", help="discard a resumable replay and start from sequence 1")
    rebuild.add_argument("--chunk", type=int, default=None, metavar="N",
                         help="events replayed per committed transaction (default 20000): an interruption "
                              "loses at most this much work")
    rebuild.set_defaults(func=cmd_rebuild)


def cmd_rebuild(args: argparse.Namespace) -> int:
    from fathom_projector.online_rebuild import CHUNK, rebuild_online
    from fathom_projector.shadow import ensure_shadow
    from fathom_shared.db import make_engine
    from fathom_shared.trusts import all_trust_ids

    settings = load_settings()
    owner = make_engine(settings.database_url, pool_size=1)
    app = make_engine(settings.app_database_url, pool_size=2)  # a replay's reader and writer; the switch's two
    current = None
    with interrupts_as_keyboard_interrupt() as interrupted:
        try:
            recreated = ensure_shadow(owner)
            if recreated:
                print(f"shadow tables (re)created to match the live ones: {', '.join(recreated)}", file=sys.stderr)
            trusts = [args.trust] if args.trust else all_trust_ids(owner)
            for current in trusts:
                with tqdm(desc=current, unit="event", unit_scale=True, dynamic_ncols=True) as bar:
                    head = rebuild_online(app, current, model=args.model, report=partial(_show, bar),
                                          restart=args.restart, chunk=args.chunk or CHUNK)
                print(f"{current}: switched {args.model or 'all read models'} to sequence {head}")
        except BaseException:
            if not interrupted.is_set():
                raise
            print(f"\ninterrupted; run the same command again to resume {current or ''}"
                  + _resume_after(app, current), file=sys.stderr)
            return 130
        finally:
            owner.dispose()
            app.dispose()
    return 0


def _show(bar: tqdm, progress: Progress) -> None:
    """One trust's progress on its bar, with its stage: the total is known (and a resumed replay's start) from the
    first report."""
    if bar.total != progress.head:
        bar.reset(total=progress.head)
        bar.update(progress.resumed_from)
    resumed = f"resumed after {progress.resumed_from}, " if progress.resumed_from else ""
    bar.set_postfix_str(resumed + progress.stage)  # drawn at once: a stage's report may count no events
    bar.update(progress.done - bar.n)


@contextmanager
def interrupts_as_keyboard_interrupt() -> Iterator[threading.Event]:
    """Ctrl-C (SIGINT) and SIGTERM both raise ``KeyboardInterrupt``: the open chunk rolls back, the
    committed ones stay. A second one ends the process at once, in case the clean exit hangs on the
    database; nothing is lost either way.

    The event says an interrupt arrived, because the ``KeyboardInterrupt`` does not always reach the
    caller as itself: raised inside a database call (SQLAlchemy's pool ping, say), the driver's
    clean-up can fail on the half-done statement and the library raises its own error instead.
    Whatever is raised after an interrupt is that interrupt.
    """
    interrupted = threading.Event()

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        if interrupted.is_set():
            os._exit(130)
        interrupted.set()
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield interrupted
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)  # None: not set from Python


def _resume_after(app: Engine, trust_id: str | None) -> str:
    """``" after sequence N"`` if a replay of ``trust_id`` committed chunks and the database answers, else "".

    The interrupted connection may be mid-statement, so the pool is emptied first and a fresh one asks.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from fathom_projector.online_rebuild import replay_position

    if trust_id is None:
        return ""
    app.dispose()
    try:
        where = replay_position(app, trust_id)
    except SQLAlchemyError:
        return ""
    return f" after sequence {where}" if where else ""
