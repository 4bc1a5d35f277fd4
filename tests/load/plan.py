"""The trusts a load run works on: created, seeded through the command API, and written down as a plan.

The plan is a JSON file the locust process reads (``FATHOM_LOAD_PLAN``): service addresses, and per trust its
schools, classes, pupils, objectives and one token per person the scenario plays (each teacher, school leader,
trust leader, auditor and integration its own ``sub``, as real people are: the reports service's fair-use limits
count per caller). Rosters go through the API, as in the benchmark (:mod:`tests.bench.seed`), because that is
the only path that keeps the command-side tables the API validates against in step with the events; trusts are
seeded side by side, each one's requests in order.
"""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from fathom_shared.assessment_calendar import academic_year_of, school_today
from fathom_shared.auth import load_or_create_signing_key, mint_token
from fathom_shared.config import Settings
from fathom_shared.db import make_engine
from fathom_shared.trusts import create_trust
from tests.bench.seed import SeedError, _pupil, post

SCHOOLS = 2
CLASSES_PER_SCHOOL = 2
PUPILS_PER_CLASS = 30
OBJECTIVES = 15
"""Year 4 maths objectives of each trust; a teacher's grid takes five of them at a time."""
GRID_OBJECTIVES = 5
YEAR_GROUP = 4
SEED_THREADS = 6
TOKEN_TTL_S = 8 * 3600


@dataclass
class TrustPlan:
    trust_id: str
    schools: dict[str, list[str]] = field(default_factory=dict)
    """School → its classes."""
    pupils: dict[str, list[str]] = field(default_factory=dict)
    """Class → its pupils."""
    objectives: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    """``trust_leader``, ``auditor``, ``integration``, ``school_leader:<school>``, ``teacher:<class>``."""
    seeded_sequence: int = 0
    """The trust's sequence when seeding ended: an auditor's ``as_of`` reads the trust as it was then."""

    @property
    def classes(self) -> list[str]:
        return [c for classes in self.schools.values() for c in classes]


@dataclass
class Plan:
    api: str
    reports: str
    streams: str
    trusts: list[TrustPlan]
    integrations: int
    """The first this many trusts each have an integration following the change feed and a webhook."""
    webhook_models: list[str] = field(default_factory=lambda: ["class_taught"])

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self)))
        return path

    @classmethod
    def load(cls, path: Path) -> Plan:
        raw = json.loads(path.read_text())
        return cls(**{**raw, "trusts": [TrustPlan(**t) for t in raw["trusts"]]})


def default_integrations(trusts: int) -> int:
    """One trust in five runs a BI integration (at least one)."""
    return max(1, trusts // 5)


def seed(settings: Settings, api: str, reports: str, streams: str, trusts: int, prefix: str,
         integrations: int | None = None, say=print) -> Plan:
    """Create ``trusts`` trusts (as the owner role, what ``fathom trust create`` does) and seed each through the
    API: 2 schools × 2 Year 4 classes × 30 pupils, 15 objectives, all taught once, one earlier sitting per class."""
    owner = make_engine(settings.database_url, pool_size=1)
    try:
        ids = [f"{prefix}-t{n + 1:02d}" for n in range(trusts)]
        for trust_id in ids:
            create_trust(owner, trust_id, f"Load {trust_id}")
    finally:
        owner.dispose()
    key = load_or_create_signing_key(settings.signing_key_path)

    def token(trust_id: str, role: str, sub: str, **scope: list[str]) -> str:
        return mint_token(key, issuer=settings.jwt_issuer, audience=settings.jwt_audience, trust=trust_id,
                          roles=[role], sub=sub, ttl_seconds=TOKEN_TTL_S, **scope)

    plans = [_layout(trust_id) for trust_id in ids]
    for plan in plans:
        t = plan.trust_id
        plan.tokens = {"trust_leader": token(t, "trust_leader", f"{t}-leader"),
                       "auditor": token(t, "auditor", f"{t}-auditor"),
                       "integration": token(t, "integration", f"{t}-bi")}
        plan.tokens.update({f"school_leader:{s}": token(t, "school_leader", f"{s}-head", schools=[s])
                            for s in plan.schools})
        plan.tokens.update({f"teacher:{c}": token(t, "teacher", f"{c}-teacher", classes=[c]) for c in plan.classes})
    done = 0

    def seed_one(plan: TrustPlan) -> None:
        nonlocal done
        _seed_trust(api, plan)
        done += 1
        if done % 10 == 0 or done == len(plans):
            say(f"  seeded {done} of {len(plans)} trusts")

    with ThreadPoolExecutor(SEED_THREADS) as pool:
        list(pool.map(seed_one, plans))
    return Plan(api, reports, streams, plans,
                default_integrations(trusts) if integrations is None else min(integrations, trusts))


def _layout(trust_id: str) -> TrustPlan:
    plan = TrustPlan(trust_id)
    for s in range(SCHOOLS):
        school = f"school-{s + 1}"
        plan.schools[school] = [f"{school}-4{'ABCDEFGH'[c]}" for c in range(CLASSES_PER_SCHOOL)]
    plan.pupils = {c: [f"{c}-p{p + 1:02d}" for p in range(PUPILS_PER_CLASS)] for c in plan.classes}
    plan.objectives = [f"y4-mat-{n + 1:02d}" for n in range(OBJECTIVES)]
    return plan


def session(token: str) -> requests.Session:
    """Keep-alive, resending once when the server had just closed an idle connection (every write carries an
    ``Idempotency-Key`` or creates by id, so a resend is safe)."""
    client = requests.Session()
    client.headers["Authorization"] = f"Bearer {token}"
    retry = Retry(total=2, connect=2, read=2, status=0, other=0, allowed_methods=None, backoff_factor=0,
                  raise_on_status=False)
    client.mount("http://", HTTPAdapter(max_retries=retry))
    return client


def grid(pupils: list[str], objectives: list[str], rng: random.Random, on: str) -> dict[str, Any]:
    """A teacher's grid: every pupil of the class on each objective, in one all-or-nothing batch."""
    return {"judgements": [{"pupil_id": p, "objective_id": o, "value": rng.randint(1, 4), "assessed_on": on}
                           for p in pupils for o in objectives]}


def _seed_trust(api: str, plan: TrustPlan) -> None:
    leader = session(plan.tokens["trust_leader"])
    rng = random.Random(plan.trust_id)
    today = school_today()
    post(leader, f"{api}/v1/scales/presets/emerging-developing-secure-mastery", {"id": "esdm"})
    for n, objective in enumerate(plan.objectives):
        post(leader, f"{api}/v1/objectives", {"id": objective, "code": f"Y4M{n + 1:02d}", "subject": "maths",
                                              "year_group": YEAR_GROUP, "strand": "number",
                                              "text": f"Year 4 maths objective {n + 1}", "scale_id": "esdm"})
    enrolled_on = (today - timedelta(days=30)).isoformat()
    for school, classes in plan.schools.items():
        post(leader, f"{api}/v1/schools", {"id": school, "name": f"{school.title()} Primary"})
        for class_id in classes:
            post(leader, f"{api}/v1/classes", {"id": class_id, "school_id": school, "name": class_id[-2:],
                                               "year_group": YEAR_GROUP, "academic_year": academic_year_of(today)})
            for n, pupil in enumerate(plan.pupils[class_id]):
                post(leader, f"{api}/v1/pupils", {**_pupil(school, class_id, pupil, n), "enrolled_on": enrolled_on})
    earlier = (today - timedelta(days=14)).isoformat()
    for class_id in plan.classes:
        post(leader, f"{api}/v1/objectives-taught", {"class_id": class_id, "objective_ids": plan.objectives,
                                                     "taught_on": earlier})
        answer = post(leader, f"{api}/v1/judgements",
                      grid(plan.pupils[class_id], plan.objectives[:GRID_OBJECTIVES], rng, earlier))
        plan.seeded_sequence = max(plan.seeded_sequence, answer["last_sequence"])
    if not plan.seeded_sequence:
        raise SeedError(f"{plan.trust_id}: no sequence from seeding")

