"""A demo trust loaded through the public command API, so it exercises the real write path.

Sizes follow ../shared/notes/domain.md: 3 schools, Years 1–6, 2–3 classes a year group of
about 30 pupils, 30 maths and 24 English objectives a year, group mixes within the ranges
seen in trusts (pupil premium 17–33%, SEN ≈15%, EAL 2–40% by school). Judgements come at
three assessment points (end of last summer term on the previous year's objectives, end of
autumn 1 and mid autumn 2 on this year's), with a few corrections and a withdrawal, objectives
taught before they are assessed, an intervention per Year 4 class (one ended, with outcome),
an autumn standardised test in maths and reading, and the half-termly cycle of
:mod:`fathom_infra.demo_cycle`: the trust's calendar, summative codes in both subjects (last year's
final point and this year's so far) and a pupil progress meeting per class at each of the two latest
completed points, the later one reviewing the earlier one's decisions. Random but seeded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tqdm import tqdm

from fathom_infra.demo_client import Client, Pupil
from fathom_infra.demo_cycle import Calendar, load_meetings, load_summative, token_sub

SUBJECTS = {"maths": ("number", "calculation", "fractions", "measurement", "geometry", "statistics"),
            "english": ("reading", "writing", "grammar", "spelling")}
OBJECTIVES_PER_SUBJECT = {"maths": 30, "english": 24}
TESTS = {"maths": "Autumn maths (age-standardised)", "english": "Autumn reading (age-standardised)"}
SCHOOLS = [("Oak Hill Primary", 2, 0.05), ("Ash Grove Primary", 3, 0.38), ("Elm Park Primary", 2, 0.12)]
"""Name, classes per year group, share of pupils with English as an additional language."""
GIVEN = ["Ava", "Noah", "Amira", "Leo", "Isla", "Oliver", "Zara", "Jacob", "Maya", "Ali", "Freya", "Harry",
         "Ruby", "Yusuf", "Grace", "Oscar", "Sofia", "Theo", "Hana", "Alfie"]
FAMILY = ["Smith", "Khan", "Jones", "Patel", "Taylor", "Brown", "Ahmed", "Wilson", "Evans", "Nowak", "Hughes",
          "Begum", "Green", "Okafor", "Wright", "Ali", "Walker", "Murphy", "Hussain", "Clarke"]


@dataclass
class DemoSummary:
    schools: list[str]
    classes: list[str]
    pupils: int
    judgements: int
    last_sequence: int


def band_for(score: float) -> int:
    return 1 if score < -1.0 else 2 if score < -0.2 else 3 if score < 1.0 else 4


def load_demo(api_url: str, token: str, *, pupils_per_class: int = 30, today: date | None = None, seed: int = 7,
              progress: bool = True) -> DemoSummary:
    rng = random.Random(seed)
    client = Client(api_url, token)
    calendar = Calendar(today or date.today())

    client.post("/v1/scales/presets/emerging-developing-secure-mastery", {"id": "esdm"})
    client.send("PUT", f"/v1/calendar/{calendar.academic_year}", {"points": calendar.assessment_points()})
    objectives = _framework(client)
    school_ids, pupils = _roster(client, rng, calendar, pupils_per_class, progress)
    class_ids = sorted({p.class_id for p in pupils})
    judgements = _assessments(client, rng, calendar, objectives, pupils, class_ids, progress)
    _scores(client, rng, calendar, pupils)
    load_summative(client, random.Random(seed + 12), calendar, pupils, SUBJECTS)
    load_meetings(client, calendar, pupils, objectives, token_sub(token))
    return DemoSummary(school_ids, class_ids, len(pupils), judgements, client.last_sequence)


def _framework(client: Client) -> dict[tuple[int, str], list[str]]:
    objectives: dict[tuple[int, str], list[str]] = {}
    for year in range(1, 7):
        for subject, strands in SUBJECTS.items():
            for n in range(OBJECTIVES_PER_SUBJECT[subject]):
                objective_id = f"y{year}-{subject[:3]}-{n + 1:02d}"
                strand = strands[n % len(strands)]
                client.post("/v1/objectives", {
                    "id": objective_id, "code": f"Y{year}{subject[0].upper()}{n + 1:02d}", "subject": subject,
                    "year_group": year, "strand": strand, "scale_id": "esdm",
                    "text": f"Year {year} {subject}: {strand} objective {n + 1}"})
                objectives.setdefault((year, subject), []).append(objective_id)
    return objectives


def _roster(client: Client, rng: random.Random, calendar: Calendar, pupils_per_class: int,
            progress: bool) -> tuple[list[str], list[Pupil]]:
    school_ids: list[str] = []
    pupils: list[Pupil] = []
    total = sum(classes for _, classes, _ in SCHOOLS) * 6 * pupils_per_class
    bar = tqdm(total=total, desc="demo pupils", unit="pupil", disable=not progress)
    for s, (name, classes_per_year, eal_rate) in enumerate(SCHOOLS):
        school_id = f"school-{chr(ord('a') + s)}"
        school_ids.append(school_id)
        client.post("/v1/schools", {"id": school_id, "name": name})
        pupil_premium_rate = rng.uniform(0.17, 0.33)
        for year in range(1, 7):
            for c in range(classes_per_year):
                class_id = f"{school_id}-y{year}{'ABC'[c]}"
                client.post("/v1/classes", {"id": class_id, "school_id": school_id, "name": f"{year}{'ABC'[c]}",
                                            "year_group": year, "academic_year": calendar.academic_year})
                for p in range(pupils_per_class):
                    sen_roll = rng.random()
                    groups = {"pupil_premium": rng.random() < pupil_premium_rate,
                              "sen": "ehcp" if sen_roll < 0.03 else "support" if sen_roll < 0.15 else "none",
                              "eal": rng.random() < eal_rate, "gender": rng.choice(["female", "male"]),
                              "more_able": rng.random() < 0.1,
                              "custom": ["young carer"] if rng.random() < 0.04 else []}
                    pupil_id = f"{class_id}-p{p + 1:02d}"
                    client.post("/v1/pupils", {"id": pupil_id, "school_id": school_id, "class_id": class_id,
                                               "given_name": rng.choice(GIVEN), "family_name": rng.choice(FAMILY),
                                               "groups": groups, "enrolled_on": calendar.enrolled_on.isoformat()})
                    ability = (rng.gauss(0, 0.8) + (0.6 if groups["more_able"] else 0)
                               - (0.7 if groups["sen"] != "none" else 0) - (0.2 if groups["pupil_premium"] else 0))
                    pupils.append(Pupil(pupil_id, class_id, year, ability))
                    bar.update()
    bar.close()
    return school_ids, pupils


def _assessments(client: Client, rng: random.Random, calendar: Calendar,
                 objectives: dict[tuple[int, str], list[str]], pupils: list[Pupil], class_ids: list[str],
                 progress: bool) -> int:
    recorded = 0
    autumn_days = calendar.days_between(calendar.term_start, calendar.today)
    bar = tqdm(total=len(class_ids), desc="demo judgements", unit="class", disable=not progress)
    for class_id in class_ids:
        members = [p for p in pupils if p.class_id == class_id]
        year = members[0].year
        batch: list[dict[str, Any]] = []
        for subject in SUBJECTS:
            this_year = objectives[(year, subject)]
            taught = this_year[: len(this_year) * 2 // 5]
            taught_days = sorted(rng.sample(autumn_days, k=min(len(autumn_days), len(taught))))
            for objective_id, day in zip(taught, taught_days, strict=False):
                client.post("/v1/objectives-taught", {"class_id": class_id, "objective_ids": [objective_id],
                                                      "taught_on": day.isoformat()})
            points = [(calendar.autumn1_point, taught[: len(taught) * 2 // 3], 0.0),
                      (calendar.today, taught[len(taught) // 3:], 0.3)]
            if year > 1:  # last summer: the previous year's objectives, a little less secure
                points.insert(0, (calendar.summer_point, objectives[(year - 1, subject)][-6:], -0.2))
            if year == 4 and subject == "maths":  # a baseline before the Year 4 intervention starts
                points.insert(0, (calendar.baseline_point, this_year[:2], -0.4))
            for on, assessed, growth in points:
                for objective_id in assessed:
                    for pupil in members:
                        if rng.random() < 0.06:
                            continue  # absent: not yet assessed
                        batch.append({"pupil_id": pupil.pupil_id, "objective_id": objective_id,
                                      "value": band_for(pupil.ability + growth + rng.gauss(0, 0.7)),
                                      "assessed_on": on.isoformat()})
        answers = [client.post("/v1/judgements", {"judgements": batch[i:i + 300]}) for i in range(0, len(batch), 300)]
        recorded += len(batch)
        judgement_ids = [event_id for answer in answers for event_id in answer["event_ids"]]
        _life_of_judgements(client, rng, batch, judgement_ids)
        if class_id.split("-y")[1].startswith("4"):
            _intervention(client, calendar, class_id, members, objectives[(year, "maths")][:2])
        bar.update()
    bar.close()
    return recorded


def _life_of_judgements(client: Client, rng: random.Random, batch: list[dict[str, Any]],
                        judgement_ids: list[str]) -> None:
    """A couple of corrections (a slip of the keyboard) and one withdrawal (wrong pupil) per class."""
    picks = rng.sample(range(len(batch)), k=min(3, len(batch)))
    for n, index in enumerate(picks):
        judgement_id = judgement_ids[index]
        if n < 2:
            value = batch[index]["value"] % 4 + 1
            client.post(f"/v1/judgements/{judgement_id}/correction",
                        {"value": value, "reason": "Entered in the wrong column"})
        else:
            client.post(f"/v1/judgements/{judgement_id}/withdrawal", {"reason": "Recorded for the wrong pupil"})


def _intervention(client: Client, calendar: Calendar, class_id: str, members: list[Pupil],
                  objective_ids: list[str]) -> None:
    strugglers = [p.pupil_id for p in sorted(members, key=lambda p: p.ability)[:6]]
    start = calendar.intervention_start
    intervention_id = f"{class_id}-number-boost"
    client.post("/v1/interventions", {"id": intervention_id, "name": "Number sense boost", "lead": "Ms Reid",
                                      "pupil_ids": strugglers[:5], "objective_ids": objective_ids,
                                      "start_date": start.isoformat()})
    client.post(f"/v1/interventions/{intervention_id}/pupils",
                {"add": strugglers[5:], "remove": [], "changed_on": (start + timedelta(days=7)).isoformat()})
    if class_id.endswith("A"):
        client.post(f"/v1/interventions/{intervention_id}/end",
                    {"end_date": calendar.autumn1_point.isoformat(),
                     "outcome": "Four of six pupils secure in place value; continue with two."})


def _scores(client: Client, rng: random.Random, calendar: Calendar, pupils: list[Pupil]) -> None:
    taken_on = calendar.autumn1_point - timedelta(days=3)
    scores = [{"pupil_id": p.pupil_id, "test": TESTS[subject], "subject": subject,
               "score": max(70, min(140, round(100 + 12 * p.ability + rng.gauss(0, 6)))),
               "taken_on": taken_on.isoformat()}
              for p in pupils for subject in SUBJECTS]
    for start in range(0, len(scores), 500):
        client.post("/v1/standardised-scores", {"scores": scores[start:start + 500]})
