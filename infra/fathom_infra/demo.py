"""A demo trust loaded through the public command API, so it exercises the real write path.

Sizes follow ../shared/notes/domain.md: about 30 pupils a class, two classes a year group,
Years 1–6, group mixes within the ranges seen in trusts. Random but seeded: the same seed
gives the same trust.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import requests
from tqdm import tqdm

ESDM = [
    {"value": 1, "label": "Emerging", "secure": False},
    {"value": 2, "label": "Developing", "secure": False},
    {"value": 3, "label": "Secure", "secure": True},
    {"value": 4, "label": "Mastery", "secure": True},
]
SUBJECTS = {"maths": ("number", "calculation", "fractions", "measurement", "geometry", "statistics"),
            "english": ("reading", "writing", "grammar", "spelling")}
OBJECTIVES_PER_SUBJECT = {"maths": 24, "english": 20}
GIVEN = ["Ava", "Noah", "Amira", "Leo", "Isla", "Oliver", "Zara", "Jacob", "Maya", "Ali", "Freya", "Harry",
         "Ruby", "Yusuf", "Grace", "Oscar", "Sofia", "Theo", "Hana", "Alfie"]
FAMILY = ["Smith", "Khan", "Jones", "Patel", "Taylor", "Brown", "Ahmed", "Wilson", "Evans", "Nowak", "Hughes",
          "Begum", "Green", "Okafor", "Wright", "Ali", "Walker", "Murphy", "Hussain", "Clarke"]


class DemoLoadError(RuntimeError):
    pass


@dataclass
class DemoSummary:
    schools: list[str]
    classes: list[str]
    pupils: int
    judgements: int
    last_sequence: int


class Client:
    def __init__(self, api_url: str, token: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.last_sequence = 0

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.session.post(self.api_url + path, json=body, timeout=60,
                                     headers={"Idempotency-Key": f"demo:{path}:{_key(body)}"})
        if response.status_code != 201:
            raise DemoLoadError(f"POST {path} answered {response.status_code}: {response.text[:500]}")
        answer = response.json()
        self.last_sequence = max(self.last_sequence, answer.get("last_sequence") or 0)
        return answer


def _key(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:32]


def school_days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


def load_demo(api_url: str, token: str, *, schools: int = 2, classes_per_year: int = 2, pupils_per_class: int = 30,
              today: date | None = None, seed: int = 7, progress: bool = True) -> DemoSummary:
    rng = random.Random(seed)
    client = Client(api_url, token)
    today = today or date.today()
    term_start = date(today.year if today.month >= 9 else today.year - 1, 9, 3)
    academic_year = f"{term_start.year}-{(term_start.year + 1) % 100:02d}"
    days = [d for d in school_days(term_start, today)] or [today]

    client.post("/v1/scales", {"id": "esdm", "name": "Emerging / Developing / Secure / Mastery", "bands": ESDM})
    objectives: dict[int, list[str]] = {}
    for year in range(1, 7):
        for subject, strands in SUBJECTS.items():
            for n in range(OBJECTIVES_PER_SUBJECT[subject]):
                objective_id = f"y{year}-{subject[:3]}-{n + 1:02d}"
                client.post("/v1/objectives", {
                    "id": objective_id, "code": f"Y{year}{subject[0].upper()}{n + 1:02d}", "subject": subject,
                    "year_group": year, "strand": strands[n % len(strands)],
                    "text": f"Year {year} {subject} objective {n + 1} ({strands[n % len(strands)]})",
                    "scale_id": "esdm"})
                objectives.setdefault(year, []).append(objective_id)

    school_ids = [f"school-{chr(ord('a') + s)}" for s in range(schools)]
    class_ids: list[str] = []
    pupil_ability: dict[str, tuple[str, float]] = {}
    total_pupils = schools * 6 * classes_per_year * pupils_per_class
    bar = tqdm(total=total_pupils, desc="demo pupils", unit="pupil", disable=not progress)
    for s, school_id in enumerate(school_ids):
        client.post("/v1/schools", {"id": school_id, "name": ["Oak Hill Primary", "Ash Grove Primary",
                                                              "Elm Park Primary", "Birch Lane Primary"][s % 4]})
        eal_rate = rng.uniform(0.05, 0.35)
        for year in range(1, 7):
            for c in range(classes_per_year):
                class_id = f"{school_id}-y{year}{'ABCDEF'[c]}"
                client.post("/v1/classes", {"id": class_id, "school_id": school_id, "name": f"{year}{'ABCDEF'[c]}",
                                            "year_group": year, "academic_year": academic_year})
                class_ids.append(class_id)
                for p in range(pupils_per_class):
                    pupil_id = f"{class_id}-p{p + 1:02d}"
                    sen_roll = rng.random()
                    groups = {"pupil_premium": rng.random() < 0.25,
                              "sen": "ehcp" if sen_roll < 0.03 else "support" if sen_roll < 0.15 else "none",
                              "eal": rng.random() < eal_rate, "gender": rng.choice(["female", "male"]),
                              "more_able": rng.random() < 0.1}
                    client.post("/v1/pupils", {"id": pupil_id, "school_id": school_id, "class_id": class_id,
                                               "given_name": rng.choice(GIVEN), "family_name": rng.choice(FAMILY),
                                               "groups": groups})
                    ability = rng.gauss(0, 0.8) + (0.6 if groups["more_able"] else 0) \
                        - (0.7 if groups["sen"] != "none" else 0) - (0.2 if groups["pupil_premium"] else 0)
                    pupil_ability[pupil_id] = (class_id, ability)
                    bar.update()
    bar.close()

    judgements = 0
    bar = tqdm(total=len(class_ids), desc="demo judgements", unit="class", disable=not progress)
    for class_id in class_ids:
        year = int(class_id.split("-y")[1][0])
        taught = [o for o in objectives[year] if int(o.rsplit("-", 1)[1]) <= 8]
        taught_days = sorted(rng.sample(days, k=min(len(days), len(taught))))
        for objective_id, day in zip(taught, taught_days * (len(taught) // max(len(taught_days), 1) + 1),
                                     strict=False):
            client.post("/v1/objectives-taught", {"class_id": class_id, "objective_ids": [objective_id],
                                                  "taught_on": day.isoformat()})
        pupils = [p for p, (c, _) in pupil_ability.items() if c == class_id]
        batch: list[dict[str, Any]] = []
        for objective_id in taught[: max(1, len(taught) * 3 // 4)]:
            on = rng.choice(days)
            for pupil_id in pupils:
                if rng.random() < 0.08:
                    continue  # absent that day: not yet assessed
                score = pupil_ability[pupil_id][1] + rng.gauss(0, 0.7)
                value = 1 if score < -1.0 else 2 if score < -0.2 else 3 if score < 1.0 else 4
                batch.append({"pupil_id": pupil_id, "objective_id": objective_id, "value": value,
                              "assessed_on": on.isoformat()})
        for start in range(0, len(batch), 300):
            client.post("/v1/judgements", {"judgements": batch[start:start + 300]})
        judgements += len(batch)
        if class_id.endswith("y4A"):
            strugglers = sorted(pupils, key=lambda p: pupil_ability[p][1])[:5]
            client.post("/v1/interventions", {
                "id": f"{class_id}-boost", "name": "Place value boost", "lead": "Ms Reid",
                "pupil_ids": strugglers, "objective_ids": taught[:2], "start_date": days[-1].isoformat()})
        bar.update()
    bar.close()
    return DemoSummary(school_ids, class_ids, len(pupil_ability), judgements, client.last_sequence)
