"""CSV export through HTTP: ``format=csv`` or ``Accept: text/csv``, same filters, same numbers as JSON."""

from __future__ import annotations

import csv
import io

from tests.integration import test_reports_api as base
from tests.integration import test_reports_interventions as impact_tests
from tests.integration import test_reports_pooled as pooled_tests
from tests.integration import test_reports_pupils as pupil_tests

client, auth, class_4a = base.client, base.auth, base.class_4a
trust_data, boost, pupils = pooled_tests.trust_data, impact_tests.boost, pupil_tests.pupils


def rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_class_analysis_csv(client, auth, class_4a):
    response = client.get("/v1/classes/4a/analysis", headers=auth("trust_leader"), query_string={"format": "csv"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="class-4a-analysis-objectives.csv"'
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == ("objective_id,code,subject,strand,text,retired,taught_dates,pupils,assessed,not_assessed,"
                        "secure,percent_secure,small_group,counts,pupils_not_secure,pupils_not_assessed")
    assert [r["code"] for r in rows(response)] == ["EN4.1", "MA3.9", "MA4.0", "MA4.1", "MA4.2"]
    assert lines[4] == ("ma1,MA4.1,Maths,,Maths objective MA4.1,false,2026-09-15; 2026-10-01,5,4,1,2,50.0,true,"
                        "Emerging 1; Developing 1; Secure 1; Mastery 1,p2; p4,p5")


def test_accept_header_and_filters_and_heat_map(client, auth, class_4a):
    headers = {**auth("trust_leader"), "Accept": "text/csv"}
    response = client.get("/v1/classes/4a/analysis", headers=headers,
                          query_string={"subject": "English", "group": "pupil_premium", "table": "heat_map"})
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="class-4a-analysis-heat_map.csv"'
    assert [(r["pupil_id"], r["name"], r["erased"], r["code"], r["value"], r["label"]) for r in rows(response)] == [
        ("p1", "Ada Lovelace", "false", "EN4.1", "3", "Green"), ("p3", "", "true", "EN4.1", "", "")]
    # A browser's default Accept still gets JSON.
    browser = client.get("/v1/classes/4a/analysis",
                         headers={**auth("trust_leader"), "Accept": "text/html,application/json;q=0.9,*/*;q=0.8"})
    assert browser.mimetype == "application/json"


def test_school_and_trust_csv(client, auth, trust_data):
    school = client.get("/v1/schools/north/analysis", headers=auth("trust_leader"),
                        query_string={"year_group": 4, "subject": "Maths", "format": "csv"})
    assert school.headers["Content-Disposition"] == 'attachment; filename="school-north-analysis-year4-Maths.csv"'
    ma1 = [r for r in rows(school) if r["code"] == "MA4.1"]
    assert [(r["level"], r["id"], r["pupils"], r["assessed"], r["percent_secure"], r["counts"]) for r in ma1] == [
        ("school", "north", "5", "4", "50.0", "Emerging 1; Developing 1; Secure 1; Mastery 1"),
        ("class", "4a", "3", "3", "66.7", "Emerging 1; Developing 0; Secure 1; Mastery 1"),
        ("class", "4b", "2", "1", "0.0", "Emerging 0; Developing 1; Secure 0; Mastery 0")]
    trust = client.get("/v1/trust/analysis", headers=auth("trust_leader"),
                       query_string={"year_group": 4, "format": "csv"})
    assert trust.headers["Content-Disposition"] == 'attachment; filename="trust-analysis-year4.csv"'
    ma1 = [r for r in rows(trust) if r["code"] == "MA4.1"]
    assert [(r["level"], r["id"], r["assessed"], r["secure"], r["percent_secure"], r["small_group"])
            for r in ma1] == [("trust", "", "9", "6", "66.7", "false"), ("school", "north", "4", "2", "50.0", "true"),
                              ("school", "south", "5", "4", "80.0", "false")]
    # CSV is for leaders' tables: access is unchanged.
    assert client.get("/v1/trust/analysis", headers=auth("school_leader", schools=["north"]),
                      query_string={"year_group": 4, "format": "csv"}).status_code == 403


def test_impact_csv(client, auth, boost):
    response = client.get("/v1/interventions/boost", headers=auth("trust_leader"), query_string={"format": "csv"})
    assert response.headers["Content-Disposition"] == 'attachment; filename="intervention-boost-impact.csv"'
    first = rows(response)[0]
    assert first == {"pupil_id": "p1", "name": "Ada Ash", "objective_id": "ma1", "code": "MA4.1",
                     "before_value": "2", "before_label": "Developing", "before_on": "2026-10-20",
                     "after_value": "3", "after_label": "Secure", "after_on": "2026-11-20", "change": "1",
                     "moved_to_secure": "true"}
    assert len(rows(response)) == 8


def test_class_gaps_and_suggested_groups_csv(client, auth, class_4a):
    gaps = client.get("/v1/classes/4a/analysis", headers=auth("trust_leader"),
                      query_string={"format": "csv", "table": "gaps"})
    assert gaps.headers["Content-Disposition"] == 'attachment; filename="class-4a-analysis-gaps.csv"'
    assert [(r["gap"], r["code"], r["taught_dates"], r["assessed"], r["percent_secure"], r["secure_target_percent"])
            for r in rows(gaps)] == [
        ("taught_not_assessed", "MA3.9", "2026-09-08", "", "", "70.0"),
        ("below_target", "EN4.1", "", "2", "50.0", "70.0"),
        ("below_target", "MA4.0", "", "1", "0.0", "70.0"),
        ("below_target", "MA4.1", "", "4", "50.0", "70.0")]
    groups = client.get("/v1/classes/4a/analysis", headers=auth("trust_leader"),
                        query_string={"format": "csv", "table": "suggested_groups"})
    assert rows(groups) == [{"group": "1", "size": "2", "objective_codes": "MA4.1", "objective_ids": "ma1",
                             "pupil_ids": "p2; p4", "also_consider": ""}]


def test_pupil_history_csv(client, auth, pupils):
    response = client.get("/v1/pupils/p1", headers={**auth("trust_leader"), "Accept": "text/csv"})
    assert response.headers["Content-Disposition"] == 'attachment; filename="pupil-p1-judgement_history.csv"'
    assert [(r["code"], r["assessed_on"], r["source"], r["value"], r["original_value"], r["status"], r["reason"])
            for r in rows(response)] == [
        ("EN4.1", "2026-10-02", "teacher", "1", "1", "recorded", ""),
        ("MA4.1", "2026-09-20", "teacher", "2", "2", "recorded", ""),
        ("MA4.1", "2026-10-01", "teacher", "3", "1", "corrected", "typed the wrong band"),
        ("MA4.1", "2026-10-25", "teacher", "4", "4", "withdrawn", "wrong pupil"),
        ("MA4.1", "2026-10-26", "moderator", "3", "3", "recorded", "")]
