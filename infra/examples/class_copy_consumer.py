"""Example change-feed consumer: keep a local copy of one class's analysis inputs in sync.

    python infra/examples/class_copy_consumer.py --reports http://127.0.0.1:8001 \\
        --token "$INTEGRATION_TOKEN" --class-id school-a-y4A [--state copy.json]

It follows ``GET /v1/changes/stream`` (server-sent events) with an ``integration`` token and
applies each notice to a small local model: the trust's pupils (to know who is in the class),
the current teacher judgement of each pupil on each objective (``pupil_objective``) and the
dates the class was taught each objective (``class_taught``). When the connection drops it
reconnects with ``Last-Event-ID`` = the last notice applied, so it misses nothing and applies
nothing twice (a notice at or below the last id is ignored, should a server ever resend one).
With ``--state`` the copy and its position survive restarts.

Only ``requests`` and the standard library are needed; copy this file as a starting point.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import requests

log = logging.getLogger("class_copy")
READ_TIMEOUT_S = 60.0
"""Longer than the server's 15 s heartbeat: silence past it means the connection is dead."""


class ClassCopy:
    """The class's heat map and taught dates, folded from change notices."""

    def __init__(self, class_id: str, source: str = "teacher") -> None:
        self.class_id, self.source = class_id, source
        self.last_notice_id = 0
        self.last_sequence = 0
        self.pupils: dict[str, dict[str, Any]] = {}
        self.cells: dict[str, dict[str, Any]] = {}
        """``pupil_id/objective_id`` → the current judgement's row."""
        self.taught: set[tuple[str, str]] = set()
        """(objective_id, taught_on) for this class."""
        self.lock = threading.Lock()

    def apply(self, notice: dict[str, Any]) -> bool:
        """Apply one notice; False if it was already applied (by notice id)."""
        with self.lock:
            if notice["notice_id"] <= self.last_notice_id:
                return False
            keys, data = notice["keys"], notice["data"]
            if notice["model"] == "pupils":
                self._put(self.pupils, keys["pupil_id"], data)
            elif notice["model"] == "pupil_objective" and keys["source"] == self.source:
                self._put(self.cells, f"{keys['pupil_id']}/{keys['objective_id']}", data)
            elif notice["model"] == "class_taught" and keys["class_id"] == self.class_id:
                fact = (keys["objective_id"], keys["taught_on"])
                if data is None:
                    self.taught.discard(fact)
                else:
                    self.taught.add(fact)
            self.last_notice_id = notice["notice_id"]
            self.last_sequence = max(self.last_sequence, notice["sequence"])
            return True

    @staticmethod
    def _put(table: dict[str, dict[str, Any]], key: str, row: dict[str, Any] | None) -> None:
        if row is None:
            table.pop(key, None)
        else:
            table[key] = row

    def heat_map(self) -> dict[str, dict[str, int]]:
        """Pupil → objective → current value, for the pupils now in the class (as the Class Analysis shows)."""
        with self.lock:
            members = {pupil_id for pupil_id, row in self.pupils.items()
                       if row["class_id"] == self.class_id and row.get("left_on") is None}
            heat: dict[str, dict[str, int]] = {pupil_id: {} for pupil_id in members}
            for row in self.cells.values():
                if row["pupil_id"] in members:
                    heat[row["pupil_id"]][row["objective_id"]] = row["value"]
            return heat

    def taught_dates(self) -> dict[str, list[str]]:
        with self.lock:
            dates: dict[str, list[str]] = {}
            for objective_id, day in sorted(self.taught):
                dates.setdefault(objective_id, []).append(day)
            return dates

    def save(self, path: Path) -> None:
        with self.lock:
            state = {"last_notice_id": self.last_notice_id, "last_sequence": self.last_sequence,
                     "pupils": self.pupils, "cells": self.cells, "taught": sorted(self.taught)}
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state))
        temporary.replace(path)  # atomic: a crash leaves the old state or the new, never half

    def load(self, path: Path) -> None:
        if path.exists():
            state = json.loads(path.read_text())
            self.last_notice_id, self.last_sequence = state["last_notice_id"], state["last_sequence"]
            self.pupils, self.cells = state["pupils"], state["cells"]
            self.taught = {tuple(fact) for fact in state["taught"]}


def server_sent_events(lines: Iterable[str]) -> Iterator[dict[str, str]]:
    """``text/event-stream`` lines → events with ``id``, ``event``, ``data`` (comments and retry skipped)."""
    event: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "data" in event:
                yield event
            event = {}
            continue
        name, _, value = line.partition(":")
        if name:  # an empty name is a comment (the heartbeat)
            value = value.removeprefix(" ")
            event[name] = event[name] + "\n" + value if name == "data" and "data" in event else value


class Follower:
    """Streams the feed into a :class:`ClassCopy`, reconnecting with ``Last-Event-ID`` until stopped."""

    def __init__(self, reports_url: str, token: str, copy: ClassCopy, state: Path | None = None) -> None:
        self.url = reports_url.rstrip("/") + "/v1/changes/stream"
        self.token, self.copy, self.state = token, copy, state
        self.stop = threading.Event()
        self.connections = 0
        self._drop = threading.Event()

    def run(self) -> None:
        backoff = 0.5
        while not self.stop.is_set():
            try:
                self._follow_once()
                backoff = 0.5
            except (requests.RequestException, ValueError) as exc:
                if self.stop.is_set():
                    return
                log.warning("feed interrupted (%s); resuming after notice %d in %.1fs", exc,
                            self.copy.last_notice_id, backoff)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def _follow_once(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream",
                   "Last-Event-ID": str(self.copy.last_notice_id)}
        response = requests.get(self.url, headers=headers, stream=True, timeout=(5, READ_TIMEOUT_S),
                                allow_redirects=False)
        if response.status_code == 307:
            # The reports service serves streams from its stream server: follow it there with the token
            # (requests drops the Authorization header on a redirect to another port), and stay there.
            response.close()
            self.url = response.headers["Location"]
            response = requests.get(self.url, headers=headers, stream=True, timeout=(5, READ_TIMEOUT_S),
                                    allow_redirects=False)
        with response:
            response.raise_for_status()
            self.connections += 1
            for event in server_sent_events(response.iter_lines(decode_unicode=True)):
                if self.copy.apply(json.loads(event["data"])) and self.state is not None:
                    self.copy.save(self.state)
                if self.stop.is_set() or self._drop.is_set():
                    self._drop.clear()
                    return

    def disconnect(self) -> None:
        """Drop the connection after the next event (as a network failure would); :meth:`run` resumes."""
        self._drop.set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", required=True, help="reports service URL")
    parser.add_argument("--token", required=True, help="the trust's integration token")
    parser.add_argument("--class-id", required=True)
    parser.add_argument("--state", type=Path, help="keep the copy and its position in this JSON file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    copy = ClassCopy(args.class_id)
    if args.state:
        copy.load(args.state)
    follower = Follower(args.reports, args.token, copy, args.state)
    with contextlib.suppress(KeyboardInterrupt):
        follower.run()
    print(json.dumps({"last_notice_id": copy.last_notice_id, "heat_map": copy.heat_map(),
                      "taught": copy.taught_dates()}, indent=2))


if __name__ == "__main__":
    main()
