"""The report for parents against the real database, from command to read.

A pupil of class 4A whose teaching and judgements span two assessment points and last year: the teacher writes
a comment (``PUT /v1/pupils/{id}/report-comment``, kept as erasable personal text), the projector folds it into
``rm_parent_report_comments``, and ``GET /v1/pupils/{id}/report`` answers, per subject, the objectives secure by
the point's end (strengths) and those taught this year but not yet secure (next steps) in the curriculum's words.
"""

from __future__ import annotations

import pytest
from marshmallow import RAISE

from fathom_reports import create_app as create_reports
from fathom_reports.schemas.parent_report import ClassCommentsSchema, ParentReportSchema
from fathom_shared.db import TenantUnitOfWork
from fathom_shared.read_models.writer import apply_from_store
from tests.support import SmallTrust, bearer, events_of, personal_text, poster, rows_of, token_for

YEAR = "2026-27"
OBJECTIVES = {  # id: (subject, strand, text)
    "m-mult": ("maths", "number", "Recall multiplication facts up to 12 × 12"),
    "m-frac": ("maths", "fractions", "Recognise families of common equivalent fractions"),
    "m-area": ("maths", "measurement", "Find the area of a shape by counting squares"),
    "m-late": ("maths", "number", "Round any number to the nearest 10, 100 or 1000"),
    "m-old": ("maths", "number", "Count in tens from any number"),
    "e-read": ("english", "reading", "Retell a story in my own words"),
}
COMMENT = "Ada has worked hard on her times tables and loves reading aloud."


@pytest.fixture(scope="module")
def reports(settings, app_engine):
    return create_reports(settings, app_engine).test_client()


@pytest.fixture
def ada(client, leader, app_engine, trust) -> SmallTrust:
    """Ada in 4A since 1 September; her year so far, and one objective judged last summer."""
    post = poster(client, leader)
    small = SmallTrust().create(post)
    post("/v1/pupils", {"id": "ada", "school_id": small.school, "class_id": small.class_a, "given_name": "Ada",
                        "family_name": "Lovelace", "enrolled_on": "2026-09-01"})
    for n, (objective_id, (subject, strand, text)) in enumerate(OBJECTIVES.items()):
        post("/v1/objectives", {"id": objective_id, "code": f"Y4-X{n}", "subject": subject, "year_group": 4,
                                "strand": strand, "text": text, "scale_id": small.scale})
    for objective_id, day in (("m-mult", "2026-09-10"), ("m-frac", "2026-09-20"), ("m-area", "2026-10-05"),
                              ("e-read", "2026-09-15"), ("m-late", "2026-11-10")):
        post("/v1/objectives-taught", {"class_id": small.class_a, "objective_ids": [objective_id], "taught_on": day})
    judged = post("/v1/judgements", {"judgements": [
        {"pupil_id": "ada", "objective_id": objective_id, "value": value, "assessed_on": day}
        for objective_id, value, day in (("m-mult", 3, "2026-10-01"), ("m-frac", 2, "2026-10-02"),
                                         ("e-read", 4, "2026-10-03"), ("m-late", 3, "2026-11-12"),
                                         ("m-old", 4, "2026-07-01"), ("m-frac", 4, "2026-11-20"))]})
    withdrawn = judged["event_ids"][2]  # e-read: recorded for the wrong pupil
    post(f"/v1/judgements/{withdrawn}/withdrawal", {"reason": "Wrong pupil"})
    return small


def teacher(settings, trust: str, class_id: str = "4A", sub: str = "t-4a") -> dict[str, str]:
    return bearer(token_for(settings, trust, ["teacher"], sub=sub, classes=[class_id]))


def write_comment(client, headers, pupil_id: str = "ada", **body):
    return client.put(f"/v1/pupils/{pupil_id}/report-comment", headers=headers,
                      json={"academic_year": YEAR, "point_id": "autumn-1", "comment": COMMENT, **body})


def project(engine, trust: str) -> None:
    with TenantUnitOfWork(engine, trust) as uow:
        assert apply_from_store(uow.connection, trust, after=0).dead_letters == []
        uow.commit()


def report(reports, headers, pupil_id: str = "ada", **query: str):
    return reports.get(f"/v1/pupils/{pupil_id}/report", headers=headers,
                       query_string={"academic_year": YEAR, "point_id": "autumn-1", **query})


def statement(objective_id: str) -> dict[str, str]:
    _, strand, text = OBJECTIVES[objective_id]
    return {"objective_id": objective_id, "strand": strand, "text": text}


def test_the_teachers_comment_is_an_event_carrying_only_its_reference(client, settings, ada, app_engine, trust):
    answer = write_comment(client, teacher(settings, trust))
    assert answer.status_code == 200, answer.json
    [event] = events_of(app_engine, trust, "ParentReportCommentWritten")
    assert (event.stream_type, event.stream_id) == ("parent_report", "ada")
    assert set(event.data) == {"pupil_id", "academic_year", "point_id", "comment_ref"}
    assert COMMENT not in str(event.data)
    assert personal_text(app_engine, trust, event.data["comment_ref"]) == COMMENT


def test_the_report_at_a_point_says_strengths_next_steps_and_the_comment(client, reports, settings, ada, app_engine,
                                                                         trust):
    assert write_comment(client, teacher(settings, trust)).status_code == 200
    project(app_engine, trust)

    answer = report(reports, teacher(settings, trust))
    assert answer.status_code == 200, answer.json
    body = answer.json
    ParentReportSchema().load(body, unknown=RAISE)
    assert body["pupil"] == {"pupil_id": "ada", "name": "Ada Lovelace", "erased": False, "school_id": "sch-1",
                             "class_id": "4A", "year_group": 4,
                             "class_name": "4A", "school_name": "Oak Primary"}
    assert body["point"] == {"point_id": "autumn-1", "name": "Autumn 1", "starts_on": "2026-09-01",
                             "ends_on": "2026-10-31"}
    # By 31 October: multiplication secure; fractions judged developing (the later mastery is November's);
    # area taught, never judged; reading's only judgement was withdrawn. Rounding came later, counting last year.
    assert body["subjects"] == [
        {"subject": "english", "summative": None, "strengths": [], "next_steps": [statement("e-read")]},
        {"subject": "maths", "summative": None, "strengths": [statement("m-mult")],
         "next_steps": [statement("m-frac"), statement("m-area")]},
    ]
    assert body["comment"] == COMMENT


def test_a_later_point_counts_what_happened_since(reports, settings, ada, app_engine, trust):
    project(app_engine, trust)
    body = report(reports, teacher(settings, trust), point_id="autumn-2").json
    maths = next(s for s in body["subjects"] if s["subject"] == "maths")
    assert maths["strengths"] == [statement("m-frac"), statement("m-mult"), statement("m-late")]  # strand, then code
    assert maths["next_steps"] == [statement("m-area")]
    assert body["comment"] is None  # written for autumn 1 only


def test_the_trusts_rollup_method_decides_what_is_secure(client, leader, reports, settings, ada, app_engine, trust):
    answer = client.put("/v1/settings/rollup", json={"method": "secure_n_times", "n": 2}, headers=leader)
    assert answer.status_code == 200, answer.json
    project(app_engine, trust)
    body = report(reports, teacher(settings, trust)).json
    maths = next(s for s in body["subjects"] if s["subject"] == "maths")
    assert maths["strengths"] == []  # secure once is not yet secure for this trust
    assert statement("m-mult") in maths["next_steps"]


def test_a_new_comment_replaces_the_last_and_an_empty_one_removes_it(client, reports, settings, ada, app_engine,
                                                                   trust):
    headers = teacher(settings, trust)
    assert write_comment(client, headers).status_code == 200
    assert write_comment(client, headers, comment="A second thought.").status_code == 200
    project(app_engine, trust)
    assert report(reports, headers).json["comment"] == "A second thought."
    assert write_comment(client, headers, comment="").status_code == 200
    project(app_engine, trust)
    assert report(reports, headers).json["comment"] is None


def test_erasing_the_pupil_erases_the_comment(client, leader, reports, settings, ada, app_engine, trust):
    assert write_comment(client, teacher(settings, trust)).status_code == 200
    assert client.delete("/v1/pupils/ada/personal-data", headers=leader).status_code == 200
    project(app_engine, trust)
    body = report(reports, bearer(token_for(settings, trust, ["trust_leader"]))).json
    assert body["pupil"]["name"] is None and body["comment"] is None
    [event] = events_of(app_engine, trust, "ParentReportCommentWritten")
    assert personal_text(app_engine, trust, event.data["comment_ref"]) is None


@pytest.mark.parametrize(("query", "field"), [({"point_id": "autumn-9"}, "point_id"),
                                              ({"academic_year": "2026-28"}, "academic_year")])
def test_bad_points_and_years_are_named(reports, settings, ada, app_engine, trust, query, field):
    project(app_engine, trust)
    answer = report(reports, teacher(settings, trust), **query)
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert list(answer.json["errors"]) == [f"query.{field}"]  # as every query argument is named


def test_a_missing_point_is_named(reports, settings, ada, app_engine, trust):
    answer = reports.get("/v1/pupils/ada/report", headers=teacher(settings, trust),
                         query_string={"academic_year": YEAR})
    assert answer.status_code == 422
    assert list(answer.json["errors"]) == ["query.point_id"]


def test_a_comment_at_an_unknown_point_is_refused_naming_it(client, settings, ada, app_engine, trust):
    answer = write_comment(client, teacher(settings, trust), point_id="autumn-9")
    assert answer.status_code == 422 and list(answer.json["errors"]) == ["point_id"]
    assert events_of(app_engine, trust, "ParentReportCommentWritten") == []


def test_only_the_pupils_teachers_and_leaders_write_or_read(client, reports, settings, ada, app_engine, trust,
                                                           make_trust):
    other_class = teacher(settings, trust, "4B", sub="t-4b")
    auditor = bearer(token_for(settings, trust, ["auditor"], sub="aud-1"))
    head = bearer(token_for(settings, trust, ["school_leader"], schools=["sch-1"]))
    assert write_comment(client, other_class).status_code == 403
    assert write_comment(client, auditor).status_code == 403
    assert write_comment(client, head).status_code == 200
    project(app_engine, trust)
    assert report(reports, other_class).status_code == 403
    assert report(reports, head).status_code == 200
    assert report(reports, bearer(token_for(settings, make_trust(), ["trust_leader"]))).status_code == 404


def test_an_auditors_read_of_a_report_is_recorded(reports, settings, ada, app_engine, trust):
    project(app_engine, trust)
    auditor = bearer(token_for(settings, trust, ["auditor"], sub="aud-1"))
    assert report(reports, auditor).status_code == 200
    assert [tuple(r) for r in rows_of(app_engine, trust, "SELECT sub, path, status FROM audit_reads")] == [
        ("aud-1", "/v1/pupils/ada/report", 200)]


def test_both_endpoints_are_in_the_openapi_documents(client, reports):
    command = client.get("/openapi.json").json["paths"]["/v1/pupils/{pupil_id}/report-comment"]["put"]
    assert {"400", "403", "404", "422"} <= set(command["responses"])
    read = reports.get("/openapi.json").json["paths"]["/v1/pupils/{pupil_id}/report"]["get"]
    assert {p["name"] for p in read["parameters"] if p["in"] == "query"} >= {"academic_year", "point_id"}
    assert {"403", "404", "422"} <= set(read["responses"])


def test_each_subjects_summative_code_is_said_in_the_scales_words_for_parents(client, reports, settings, ada,
                                                                            app_engine, trust):
    headers = teacher(settings, trust)
    for subject, code, point in (("maths", "EXS", "autumn-1"), ("science", "gds", "autumn-1"),
                                 ("english", "WTS", "autumn-2")):
        answer = client.post("/v1/classes/4A/summative", headers=headers, json={
            "academic_year": YEAR, "point_id": point, "subject": subject,
            "entries": [{"pupil_id": "ada", "code": code}]})
        assert answer.status_code == 201, answer.json
    project(app_engine, trust)

    subjects = {s["subject"]: s for s in report(reports, headers).json["subjects"]}
    assert subjects["maths"]["summative"] == "Working at the expected standard for the year"
    # A code given where nothing was taught or judged still reports the subject; autumn 2's code is not autumn 1's.
    assert subjects["science"] == {"subject": "science", "summative":
                                   "Working at greater depth within the expected standard",
                                   "strengths": [], "next_steps": []}
    assert subjects["english"]["summative"] is None
    assert "EXS" not in str(subjects) and "GDS" not in str(subjects)


def comments(reports, headers, class_id: str = "4A", **query: str):
    return reports.get(f"/v1/classes/{class_id}/report-comments", headers=headers,
                       query_string={"academic_year": YEAR, "point_id": "autumn-1", **query})


def test_a_classs_report_comments_at_a_point_read_and_export_as_csv(client, reports, settings, ada, app_engine,
                                                                    trust):
    """The teacher's comments for the whole class at once, every pupil of the class listed (null where none is
    written yet), and the same as CSV — by ``format=csv`` or ``Accept: text/csv`` — with a comment that a
    spreadsheet would run as a formula defused."""
    headers = teacher(settings, trust)
    assert write_comment(client, headers).status_code == 200
    assert write_comment(client, headers, pupil_id="p1", comment='=1+1, "quoted"').status_code == 200
    assert write_comment(client, headers, point_id="autumn-2", comment="Later.").status_code == 200
    project(app_engine, trust)

    answer = comments(reports, headers)
    assert answer.status_code == 200, answer.json
    body = answer.json
    ClassCommentsSchema().load(body, unknown=RAISE)
    assert (body["class_id"], body["point"]["academic_year"], body["point"]["point_id"]) == ("4A", YEAR, "autumn-1")
    assert body["written"] == 2 and len(body["pupils"]) == 7  # Ada and p1–p6: the class now
    by_pupil = {p["pupil_id"]: p for p in body["pupils"]}
    assert by_pupil["ada"] == {"pupil_id": "ada", "name": "Ada Lovelace", "comment": COMMENT}
    assert by_pupil["p1"]["comment"] == '=1+1, "quoted"' and by_pupil["p2"]["comment"] is None

    for exported in (comments(reports, headers, format="csv"),
                     reports.get("/v1/classes/4A/report-comments", query_string={"academic_year": YEAR,
                                 "point_id": "autumn-1"}, headers={**headers, "Accept": "text/csv"})):
        assert exported.status_code == 200 and exported.mimetype == "text/csv"
        assert 'filename="class-4A-report_comments-2026_27-autumn_1.csv"' in exported.headers["Content-Disposition"]
        lines = exported.get_data(as_text=True).splitlines()
        assert lines[0] == "pupil_id,name,class_id,academic_year,point_id,comment"
        assert f"ada,Ada Lovelace,4A,{YEAR},autumn-1,{COMMENT}" in lines
        assert f'p1,Given0 Family0,4A,{YEAR},autumn-1,"\'=1+1, ""quoted"""' in lines
        assert f"p2,Given1 Family1,4A,{YEAR},autumn-1," in lines
    assert comments(reports, headers, point_id="autumn-2").json["written"] == 1


def test_a_classs_report_comments_are_its_readers_and_a_bad_point_is_named(client, reports, settings, ada,
                                                                          app_engine, trust, make_trust):
    assert write_comment(client, teacher(settings, trust)).status_code == 200
    project(app_engine, trust)
    auditor = bearer(token_for(settings, trust, ["auditor"], sub="aud-1"))
    assert comments(reports, teacher(settings, trust, "4B", sub="t-4b")).status_code == 403
    assert comments(reports, bearer(token_for(settings, make_trust(), ["trust_leader"]))).status_code == 404
    assert comments(reports, teacher(settings, trust), class_id="9Z").status_code == 404
    refused = comments(reports, teacher(settings, trust), point_id="autumn-9")
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert list(refused.json["errors"]) == ["query.point_id"]
    assert {p["pupil_id"]: p["comment"] for p in comments(reports, auditor).json["pupils"]}["ada"] == COMMENT
    assert [tuple(r) for r in rows_of(app_engine, trust, "SELECT sub, path, status FROM audit_reads")] == [
        ("aud-1", "/v1/classes/4A/report-comments", 200)]
    documented = reports.get("/openapi.json").json["paths"]["/v1/classes/{class_id}/report-comments"]["get"]
    assert {p["name"] for p in documented["parameters"] if p["in"] == "query"} >= {
        "academic_year", "point_id", "format"}
    assert {"403", "404", "422"} <= set(documented["responses"])
