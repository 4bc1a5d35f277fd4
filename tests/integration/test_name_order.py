"""Schools, classes and trusts are listed as a reader reads their names, whatever the database's collation.

The test servers' collation (C.UTF-8) orders by code point: "Zeal Academy" before "abbey Primary", "École" and
"Østergaard" after "z", "Class 10" before "Class 9". Each list below was in that order before the names were
sorted by :mod:`fathom_reports.views.reading_order`; ``tests/unit/test_reading_order.py`` guards the rule itself.
"""

from __future__ import annotations

import uuid

import pytest

from fathom_reports.web.personas import active_trusts, personas
from fathom_shared.trusts import create_trust
from tests.integration import test_reports_api as base
from tests.integration.test_reports_api import ReadModelSeed

client, auth = base.client, base.auth

SCHOOLS = [("s-z", "Zeal Academy"), ("s-a", "abbey Primary"), ("s-e", "École Saint-Jean"),
           ("s-o", "Østergaard School"), ("s-m", "Elm Primary")]
SCHOOLS_READ = ["abbey Primary", "École Saint-Jean", "Elm Primary", "Østergaard School", "Zeal Academy"]
CLASSES = [("c10", "Class 10"), ("c9", "Class 9"), ("cb", "birch"), ("co", "Oak")]
CLASSES_READ = ["birch", "Class 9", "Class 10", "Oak"]


@pytest.fixture
def named(app_engine, trust) -> str:
    seed = ReadModelSeed(trust)
    for school_id, name in SCHOOLS:
        seed.school(school_id, name)
    for class_id, name in CLASSES:
        seed.klass(class_id, "s-m", name=name)
    seed.klass("c5", "s-m", year_group=5, name="Acorn")  # a later year group follows, whatever its name
    for n, (class_id, _) in enumerate(CLASSES):
        seed.pupil(f"p{n}", "s-m", class_id)
    seed.scale("edsm").objective("ma1", "MA4.1", "Maths", "edsm").write(app_engine, last_applied=1)
    return trust


def test_the_directory_lists_schools_and_classes_by_name_as_read(client, auth, named):
    response = client.get("/v1/directory", headers=auth("trust_leader"))
    assert response.status_code == 200, response.get_json()
    schools = response.get_json()["schools"]
    assert [s["name"] for s in schools] == SCHOOLS_READ
    elm = next(s for s in schools if s["school_id"] == "s-m")
    assert [c["name"] for c in elm["classes"]] == [*CLASSES_READ, "Acorn"]


def test_the_trust_and_school_analyses_list_schools_and_classes_by_name_as_read(client, auth, named):
    trust_view = client.get("/v1/trust/analysis", headers=auth("trust_leader"), query_string={"year_group": 4})
    assert trust_view.status_code == 200, trust_view.get_json()
    assert [s["name"] for s in trust_view.get_json()["schools"]] == SCHOOLS_READ
    school_view = client.get("/v1/schools/s-m/analysis", headers=auth("trust_leader"),
                             query_string={"year_group": 4})
    assert school_view.status_code == 200, school_view.get_json()
    assert [c["name"] for c in school_view.get_json()["classes"]] == CLASSES_READ


def test_the_development_sign_in_lists_trusts_schools_and_teachers_by_name_as_read(app_engine, owner_engine, named):
    made = {f"names-{n}-{uuid.uuid4().hex[:8]}": name
            for n, name in enumerate(["zenith Learning Trust", "Árbol Trust", "Oak 10 Trust", "Oak 9 Trust"])}
    for trust_id, name in made.items():
        create_trust(owner_engine, trust_id, name)
    listed = [t.name for t in active_trusts(app_engine) if t.trust_id in made]
    assert listed == ["Árbol Trust", "Oak 9 Trust", "Oak 10 Trust", "zenith Learning Trust"]
    people = personas(app_engine, named)
    assert [p.name for p in people if p.role == "school_leader"] == [f"Head of {name}" for name in SCHOOLS_READ]
    assert [p.name for p in people if p.role == "teacher"] == [
        f"Teacher of {name}, Elm Primary" for name in [*CLASSES_READ, "Acorn"]]
