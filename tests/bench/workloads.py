"""The four measurements. Each returns raw samples; :mod:`tests.bench.report` turns them into rows.

Clients run in this process on threads with keep-alive sessions, so on a small machine the
benchmark's own CPU use is part of what is measured (it competes with the services).
"""

from __future__ import annotations

import contextlib
import itertools
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import requests
from tqdm import tqdm

from tests.bench.census import Census, census, stack_parts
from tests.bench.seed import Roster, SeedError, judgement
from tests.bench.system import BenchSystem, per_thread


@dataclass
class Throughput:
    events: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@dataclass
class Latencies:
    seconds: list[float] = field(default_factory=list)
    failures: int = 0
    requests: int = 0
    wall_seconds: float = 0.0
    response_bytes: int = 0
    first_read_seconds: float = 0.0
    """The first warm-up read, where one is timed: rendered, since the service kept nothing for it yet."""
    failure_statuses: dict[int, int] = field(default_factory=dict)
    """How many failures answered each status (where the measure records them)."""
    started: list[tuple[float, int]] = field(default_factory=list)
    """Beside each of ``seconds`` (where the measure records it): when the request started (``perf_counter``) and
    which client sent it."""


@dataclass(frozen=True)
class Tail:
    """The slowest requests of a measure (the p99 and above): how many, from how many clients, and how far apart
    their starts were. Several clients' slowest requests starting within a few milliseconds of one another were
    one stall of the whole machine, not each request's own cost."""

    count: int
    total: int
    clients: int
    window_seconds: float

    @classmethod
    def of(cls, result: Latencies) -> Tail:
        share = max(1, len(result.seconds) // 100)
        slowest = sorted(range(len(result.seconds)), key=result.seconds.__getitem__)[-share:]
        starts = [result.started[n][0] for n in slowest]
        return cls(share, len(result.seconds), len({result.started[n][1] for n in slowest}), max(starts) - min(starts))

    def line(self) -> str:
        if self.count == 1:
            return f"the slowest of its {self.total} requests is one request"
        return (f"its {self.count} slowest requests of {self.total} (the p99 and above) came from {self.clients} "
                f"client{'s' if self.clients > 1 else ''} and started within {self.window_seconds * 1000:,.0f} ms of "
                "one another")


class Batches:
    """Endless judgement batches for one class: ``size`` judgements, spread over objectives and days."""

    def __init__(self, roster: Roster, class_id: str, size: int, seed: int) -> None:
        self.pupils = roster.classes[class_id]
        self.objectives = roster.objectives
        self.size = size
        self.rng = random.Random(seed)
        self.counter = itertools.count()

    def next(self) -> list[dict[str, Any]]:
        n = next(self.counter)
        on = date.today() - timedelta(days=1 + n % 200)
        per_pupil = max(1, self.size // len(self.pupils))
        first = (n * per_pupil) % len(self.objectives)
        objectives = [self.objectives[(first + k) % len(self.objectives)] for k in range(per_pupil)]
        pairs = [(p, o) for o in objectives for p in self.pupils][: self.size]
        return [judgement(p, o, self.rng.randint(1, 4), on) for p, o in pairs]


def post_judgements(session: requests.Session, api: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """One ``POST /v1/judgements`` with an Idempotency-Key, as a careful client sends it."""
    response = session.post(f"{api}/v1/judgements", json={"judgements": items}, timeout=60,
                            headers={"Idempotency-Key": str(uuid.uuid4())})
    if response.status_code != 201:
        raise SeedError(f"POST /v1/judgements answered {response.status_code}: {response.text[:300]}")
    return response.json()


def append_throughput(system: BenchSystem, rosters: list[Roster], clients: int, batches_per_client: int,
                      batch_size: int, progress: bool = True) -> Throughput:
    """``clients`` threads each send ``batches_per_client`` batches; client i writes to ``rosters[i % n]``."""
    plans = []
    for i in range(clients):
        roster = rosters[i % len(rosters)]
        class_id = list(roster.classes)[i // len(rosters) % len(roster.classes)]
        plans.append((roster, system.session(roster.trust_id), Batches(roster, class_id, batch_size, seed=i)))
    for _, session, batches in plans:  # warm-up: connections, worker caches, JIT-free but cold pools
        post_judgements(session, system.api_url, batches.next())
    bar = tqdm(total=clients * batches_per_client * batch_size, desc="append", unit="ev", disable=not progress,
               leave=False)

    def client(plan: tuple[Roster, requests.Session, Batches]) -> int:
        _, session, batches = plan
        sent = 0
        for _ in range(batches_per_client):
            items = batches.next()
            post_judgements(session, system.api_url, items)
            sent += len(items)
            bar.update(len(items))
        return sent

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        events = sum(pool.map(client, plans))
    elapsed = time.perf_counter() - started
    bar.close()
    return Throughput(events, elapsed)


def single_judgement_latency(system: BenchSystem, roster: Roster, count: int, progress: bool = True) -> Latencies:
    """Sequential one-judgement requests from one client: the latency a teacher's click sees."""
    session = system.session(roster.trust_id)
    batches = Batches(roster, list(roster.classes)[-1], 1, seed=99)
    for _ in range(5):
        post_judgements(session, system.api_url, batches.next())
    result = Latencies()
    started = time.perf_counter()
    for _ in tqdm(range(count), desc="single judgements", disable=not progress, leave=False):
        t0 = time.perf_counter()
        post_judgements(session, system.api_url, batches.next())
        result.seconds.append(time.perf_counter() - t0)
    result.requests, result.wall_seconds = count, time.perf_counter() - started
    return result


@dataclass
class Freshness:
    visible: Latencies
    writes: Latencies
    offered_rate: float
    achieved_rate: float


_SEQUENCE = re.compile(rb'"sequence":(-?\d+)')
HEAD_BYTES = 4096
"""Where a view's ``sequence`` is looked for: it follows the ``class`` and ``filters`` objects, a few hundred bytes."""


def view_sequence(body: bytes) -> int:
    """A view's top-level ``sequence``, read from the front of its JSON without parsing the rest.

    The client runs on the two cores the stack uses, and parsing a whole 400 KiB Class Analysis cost it ~5 ms of
    them a read, about a third of its CPU during write-to-visible (``py-spy --gil``). The view's keys come in the
    schema's order, ``sequence`` after ``class`` and ``filters``, which hold no key of that name; a quote inside a
    JSON string is always escaped, so the first ``"sequence":`` in the body is a key's, and it is that one."""
    found = _SEQUENCE.search(body, 0, HEAD_BYTES)
    if found is None:
        raise ValueError(f"no sequence in the first {HEAD_BYTES} bytes of the view: {body[:200]!r}")
    return int(found.group(1))


def write_to_visible(system: BenchSystem, roster: Roster, rate: float, seconds: float, batch_size: int,
                     progress: bool = True, moments: list[tuple[int, float, float]] | None = None) -> Freshness:
    """Writes at a steady ``rate``; after each answer, read the class with ``consistency=at_least:N``.

    The sample is the time from the write's answer until that read returns 200: waiting for the
    relay and projector plus serving the read. A 503 (not visible within the server's
    consistency timeout) counts as a failure. ``moments``, if given, receives ``(N, answered, shown)`` per
    visible write in ``time.time()`` (the clock of :mod:`fathom_shared.stage_trace`).
    """
    class_id = next(iter(roster.classes))
    batches = Batches(roster, class_id, batch_size, seed=7)
    lock = threading.Lock()
    visible, writes = Latencies(), Latencies()
    # Each client thread is its own person: 20 saves a second come from many teachers, and the reports service
    # allows one caller 4 freshness waits at once (fair use).
    sessions = per_thread((system.session(roster.trust_id, f"bench-writer-{n}"),
                           system.session(roster.trust_id, f"bench-writer-{n}")) for n in range(1, CLIENT_THREADS + 1))

    def one() -> None:
        api, reports = sessions()
        with lock:
            items = batches.next()
        t0 = time.perf_counter()
        answer = post_judgements(api, system.api_url, items)
        answered, answered_at = time.perf_counter(), time.time()
        response = reports.get(f"{system.reports_url}/v1/classes/{class_id}/analysis",
                               params={"consistency": f"at_least:{answer['last_sequence']}"}, timeout=60)
        shown, shown_at = time.perf_counter(), time.time()
        ok = response.status_code == 200 and view_sequence(response.content) >= answer["last_sequence"]
        with lock:
            writes.seconds.append(answered - t0)
            if ok:
                visible.seconds.append(shown - answered)
                if moments is not None:
                    moments.append((answer["last_sequence"], answered_at, shown_at))
            else:
                visible.failures += 1
                visible.failure_statuses[response.status_code] = visible.failure_statuses.get(
                    response.status_code, 0) + 1

    total = int(rate * seconds)
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        futures = []
        for i in tqdm(range(total), desc=f"write→visible @{rate:g}/s", disable=not progress, leave=False):
            _sleep_until(started + i / rate)
            futures.append(pool.submit(one))
        submitted = time.perf_counter() - started
        for future in futures:
            future.result()
    visible.requests = writes.requests = total
    visible.wall_seconds = writes.wall_seconds = time.perf_counter() - started
    return Freshness(visible, writes, rate, total / submitted if submitted else 0.0)


@dataclass
class Importing:
    """Another trust's bulk appends running beside a measure (:func:`importing`): what they sent, and when."""

    sent: int = 0
    started: float = field(default_factory=time.perf_counter)
    first: threading.Event = field(default_factory=threading.Event)
    """Set once a batch has been answered: the appends are under way."""

    def per_second(self) -> float:
        return self.sent / (time.perf_counter() - self.started)


@contextlib.contextmanager
def importing(system: BenchSystem, roster: Roster, clients: int, batch_size: int) -> Iterator[Importing]:
    """``clients`` threads append batches of ``batch_size`` to ``roster``'s trust back to back until the block
    ends (then each finishes its batch): a trust's import keeping the cores busy meanwhile."""
    done, lock, progress = threading.Event(), threading.Lock(), Importing()
    classes = list(roster.classes)

    def client(n: int) -> None:
        session = system.session(roster.trust_id, f"bench-importer-{n}")
        batches = Batches(roster, classes[n % len(classes)], batch_size, seed=100 + n)
        while not done.is_set():
            post_judgements(session, system.api_url, batches.next())
            with lock:
                progress.sent += batch_size
            progress.first.set()

    with ThreadPoolExecutor(clients) as pool:
        running = [pool.submit(client, n) for n in range(clients)]
        try:
            if not progress.first.wait(60):
                for future in running:
                    if future.done():
                        future.result()  # a client's own error says more than the timeout
                raise TimeoutError("no import batch answered within 60 s")
            yield progress
        finally:
            done.set()
        for future in running:
            future.result()


CLIENT_THREADS = 32
"""Write-to-visible's clients: enough that a slow read never holds back the writes' schedule."""


def _sleep_until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        time.sleep(delay)


@dataclass
class CatchUp:
    backlog: int
    throughput: Throughput
    """From the first poll that saw progress to the poll that saw the end."""
    from_start: Throughput
    """From starting the process (includes start-up and joining the consumer group)."""
    used: Census
    """The CPU each part of the stack used from the process's start to the end of the backlog."""


def catch_up(system: BenchSystem, service: str, position_of: Callable[[], int], target: int, timeout: float,
             progress: bool = True) -> CatchUp:
    """Start the (stopped) ``service`` and time it through its backlog until ``position_of()`` reaches ``target``."""
    start_position = position_of()
    backlog = target - start_position
    started = time.perf_counter()
    system.start_service(service)
    first: tuple[float, int] | None = None
    with census(stack_parts(system)) as used, \
            tqdm(total=backlog, desc=f"{service} catch-up", unit="ev", disable=not progress, leave=False) as bar:
        while (position := position_of()) < target:
            now = time.perf_counter()
            if first is None and position > start_position:
                first = (now, position)
            if now - started > timeout:
                raise TimeoutError(f"{service} at {position} of {target} after {timeout:.0f}s")
            bar.update(position - start_position - bar.n)
            time.sleep(0.1)
    ended = time.perf_counter()
    first = first or (started, start_position)
    return CatchUp(backlog, Throughput(target - first[1], ended - first[0]), Throughput(backlog, ended - started),
                   used)


def read_latency(system: BenchSystem, trust_id: str, class_id: str, count: int, clients: int = 1,
                 check: Callable[[dict[str, Any]], None] | None = None, progress: bool = True,
                 params: Mapping[str, str] | None = None) -> Latencies:
    """``count`` Class Analysis reads split over ``clients`` threads (no consistency wait), with query ``params``."""
    url = f"{system.reports_url}/v1/classes/{class_id}/analysis"
    warm = system.session(trust_id)
    for _ in range(10):
        body = warm.get(url, params=params, timeout=60)
        body.raise_for_status()
    if check is not None:
        check(body.json())
    result = Latencies(response_bytes=len(body.content))
    lock = threading.Lock()
    bar = tqdm(total=count, desc=f"class analysis x{clients}", disable=not progress, leave=False)

    session_of_thread = per_thread(list(enumerate(system.session(trust_id) for _ in range(clients))))

    def client(n: int) -> None:
        number, session = session_of_thread()
        for _ in range(n):
            t0 = time.perf_counter()
            response = session.get(url, params=params, timeout=60)
            elapsed = time.perf_counter() - t0
            with lock:
                if response.status_code == 200:
                    result.seconds.append(elapsed)
                    result.started.append((t0, number))
                else:
                    result.failures += 1
                bar.update()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, [count // clients] * clients))
    result.requests, result.wall_seconds = count // clients * clients, time.perf_counter() - started
    bar.close()
    return result


def first_read_latency(system: BenchSystem, trust_id: str, class_ids: list[str], progress: bool = True,
                       params: Mapping[str, str] | None = None) -> Latencies:
    """One Class Analysis read of each class (query ``params``), sequentially: none was read so before, so each
    is rendered.

    The reports service keeps rendered bodies per worker until the trust's position moves, so a
    repeated read measures a kept body; this measures the load-and-render path a first reader pays.
    """
    session = system.session(trust_id)
    result = Latencies()
    started = time.perf_counter()
    for class_id in tqdm(class_ids, desc="first reads", disable=not progress, leave=False):
        t0 = time.perf_counter()
        response = session.get(f"{system.reports_url}/v1/classes/{class_id}/analysis", params=params, timeout=60)
        elapsed = time.perf_counter() - t0
        if response.status_code == 200:
            result.seconds.append(elapsed)
        else:
            result.failures += 1
    result.requests, result.wall_seconds = len(class_ids), time.perf_counter() - started
    return result
