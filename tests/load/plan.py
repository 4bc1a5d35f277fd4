"""The trusts a load run works on: created, seeded through the command API, and written down as a plan.

The plan is a JSON file the locust process reads (``FATHOM_LOAD_PLAN``): service addresses, and per trust its
schools, classes, pupils, objectives and one token per person the scenario plays (each teacher, school leader,
trust leader, auditor and integration its own ``sub``, as real people are: the reports service's fair-use limits
count per caller). Everything goes through the command API (the only path that keeps the command-side tables it
validates against in step with the events), the way a trust starts: the framework and the roster as CSV imports
(one request each for the 15 objectives and for the 120 pupils of a trust's OneRoster export; pupils get no group
flags that way), then each class's teaching and a first sitting; trusts are seeded side by side.
"""

from __future__ import annotations

import csv
import io
import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

from fathom_infra.demo import FAMILY, GIVEN
from fathom_shared.assessment_calendar import academic_year_of, school_today
from fathom_shared.auth import load_or_create_signing_key, mint_token
from fathom_shared.config import Settings
from fathom_shared.db import make_engine
from fathom_shared.trusts import create_trust
from tests.bench.seed import SeedError, post
from tests.http_support import resend_on_dropped_connection

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
    """This many trusts (:meth:`integration_trusts`) each have an integration following the feed and a webhook."""
    webhook_models: list[str] = field(default_factory=lambda: ["class_taught"])

    def integration_trusts(self) -> list[TrustPlan]:
        """Every fifth trust or so (spread like the teachers, who take each trust's first class in turn)."""
        step = max(1, len(self.trusts) // max(1, self.integrations))
        return self.trusts[::step][:self.integrations]

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
         integrations: int | None = None, classes_per_school: int = CLASSES_PER_SCHOOL, say=print) -> Plan:
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

    plans = [_layout(trust_id, classes_per_school) for trust_id in ids]
    for plan in plans:
        t = plan.trust_id
        plan.tokens = {"trust_leader": token(t, "trust_leader", f"{t}-leader"),
                       "auditor": token(t, "auditor", f"{t}-auditor"),
                       "integration": token(t, "integration", f"{t}-bi")}
        plan.tokens.update({f"school_leader:{s}": token(t, "school_leader", f"{s}-head", schools=[s])
                            for s in plan.schools})
        plan.tokens.update({f"teacher:{c}": token(t, "teacher", f"{c}-teacher", classes=[c]) for c in plan.classes})
    _seed_all(api, plans, say)
    return Plan(api, reports, streams, plans,
                default_integrations(trusts) if integrations is None else min(integrations, trusts))


def _layout(trust_id: str, classes_per_school: int) -> TrustPlan:
    plan = TrustPlan(trust_id)
    for s in range(SCHOOLS):
        school = f"school-{s + 1}"
        plan.schools[school] = [f"{school}-4{'ABCDEFGH'[c]}" for c in range(classes_per_school)]
    plan.pupils = {c: [f"{c}-p{p + 1:02d}" for p in range(PUPILS_PER_CLASS)] for c in plan.classes}
    plan.objectives = [f"y4-mat-{n + 1:02d}" for n in range(OBJECTIVES)]
    return plan


def session(token: str) -> requests.Session:
    """Keep-alive, with :func:`resend_on_dropped_connection`."""
    client = resend_on_dropped_connection(requests.Session())
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def grid(pupils: list[str], objectives: list[str], rng: random.Random, on: str) -> dict[str, Any]:
    """A teacher's grid: every pupil of the class on each objective, in one all-or-nothing batch."""
    return {"judgements": [{"pupil_id": p, "objective_id": o, "value": rng.randint(1, 4), "assessed_on": on}
                           for p in pupils for o in objectives]}


def _seed_all(api: str, plans: list[TrustPlan], say) -> None:
    """Two rounds, each spread over a few client threads: every trust's scale, framework and roster (two CSV
    imports, as a trust brings its objectives and its MIS's OneRoster export); every class's teaching and first
    sitting (a class's two requests in order)."""
    local = threading.local()

    def leader_of(plan: TrustPlan) -> requests.Session:
        """The trust leader's session of this thread (a ``requests.Session`` is not shared between threads)."""
        sessions = local.__dict__.setdefault("sessions", {})
        if plan.trust_id not in sessions:
            sessions[plan.trust_id] = session(plan.tokens["trust_leader"])
        return sessions[plan.trust_id]

    today = school_today()
    enrolled_on = (today - timedelta(days=30)).isoformat()
    earlier = (today - timedelta(days=14)).isoformat()

    def roster(plan: TrustPlan) -> None:
        """The scale, then the framework and the roster as a trust brings them: one CSV import each."""
        leader = leader_of(plan)
        post(leader, f"{api}/v1/scales/presets/emerging-developing-secure-mastery", {"id": "esdm"})
        _imported(leader.post(f"{api}/v1/objectives/import", data=_framework_csv(plan),
                              headers={"Content-Type": "text/csv"}, timeout=120))
        _imported(leader.post(f"{api}/v1/roster/import", params={"academic_year": academic_year_of(today)},
                              files={name: (name, text) for name, text in _oneroster(plan, enrolled_on).items()},
                              timeout=120))

    def first_sitting(item: tuple[TrustPlan, str]) -> int:
        plan, class_id = item
        leader = leader_of(plan)
        post(leader, f"{api}/v1/objectives-taught", {"class_id": class_id, "objective_ids": plan.objectives,
                                                     "taught_on": earlier})
        rng = random.Random(f"{plan.trust_id}/{class_id}")
        return post(leader, f"{api}/v1/judgements",
                    grid(plan.pupils[class_id], plan.objectives[:GRID_OBJECTIVES], rng, earlier))["last_sequence"]

    with ThreadPoolExecutor(SEED_THREADS) as pool:
        list(pool.map(roster, plans))
        say(f"  {len(plans)} trusts: scale, objectives, schools, classes, "
            f"{sum(len(p) for plan in plans for p in plan.pupils.values()):,} pupils")
        classes = [(plan, c) for plan in plans for c in plan.classes]
        for (plan, _), sequence in zip(classes, pool.map(first_sitting, classes), strict=True):
            plan.seeded_sequence = max(plan.seeded_sequence, sequence)
        say(f"  {len(classes)} classes: every objective taught, a first sitting of 30 × {GRID_OBJECTIVES}")


def _imported(response: requests.Response) -> None:
    if response.status_code != 201:
        raise SeedError(f"import answered {response.status_code}: {response.text[:300]}")


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([header, *rows])
    return out.getvalue()


def _framework_csv(plan: TrustPlan) -> str:
    return _csv(["id", "code", "subject", "year_group", "strand", "text", "weight", "scale_id"],
                [[o, f"Y4M{n + 1:02d}", "maths", str(YEAR_GROUP), "number", f"Year 4 maths objective {n + 1}", "",
                  "esdm"] for n, o in enumerate(plan.objectives)])


def _oneroster(plan: TrustPlan, enrolled_on: str) -> dict[str, str]:
    """The trust's schools, classes and pupils as OneRoster 1.2 CSV files (pupils from ``enrolled_on``)."""
    rng = random.Random(plan.trust_id)
    class_school = {c: s for s, classes in plan.schools.items() for c in classes}
    return {
        "orgs.csv": _csv(["sourcedId", "name", "type"],
                         [[s, f"{s.title()} Primary", "school"] for s in plan.schools]),
        "classes.csv": _csv(["sourcedId", "title", "grades", "schoolSourcedId"],
                            [[c, c[-2:], f"{YEAR_GROUP:02d}", class_school[c]] for c in plan.classes]),
        "users.csv": _csv(["sourcedId", "username", "givenName", "familyName", "role"],
                          [[p, p, rng.choice(GIVEN), rng.choice(FAMILY), "student"]
                           for pupils in plan.pupils.values() for p in pupils]),
        "enrollments.csv": _csv(["sourcedId", "classSourcedId", "userSourcedId", "role", "beginDate"],
                                [[f"e-{p}", c, p, "student", enrolled_on]
                                 for c, pupils in plan.pupils.items() for p in pupils]),
    }
