"""The web app's foundation without a browser: development sign-in, the session cookie, CSRF, the
``/api/v1`` command forwarder (to a real command API over HTTP), what ``/v1/directory`` shows whom,
and the security headers.

The reports app runs through its Flask test client; the command API it forwards to is a real server
on 127.0.0.1 (werkzeug in a thread), on the same database as the application role.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests
from werkzeug.serving import make_server

from fathom_api import create_app as create_api_app
from fathom_infra.local_servers import free_port
from fathom_reports import create_app
from fathom_reports.loading.freshness import listener_for
from fathom_reports.views.summative import chosen_point
from fathom_reports.web.security import CONTENT_SECURITY_POLICY
from fathom_shared.assessment_calendar import academic_year_of, default_points, school_today
from fathom_shared.config import Settings
from tests.integration.test_reports_api import ReadModelSeed
from tests.support import bearer, token_for


@pytest.fixture(scope="module", autouse=True)
def projection_listener_stopped_afterwards(settings):
    yield
    listener_for(settings.app_database_url).stop()


@pytest.fixture(scope="module")
def command_api(settings: Settings, app_engine) -> Iterator[str]:
    """The command API as a real HTTP server, as the web app reaches it in production."""
    server = make_server("127.0.0.1", 0, create_api_app(settings, engine=app_engine), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def web_settings(settings: Settings, command_api: str) -> Settings:
    return replace(settings, api_url=command_api, dev_sign_in=True, web_secret=secrets.token_urlsafe(32))


@pytest.fixture(scope="module")
def reports_app(web_settings, app_engine):
    return create_app(web_settings, app_engine)


@pytest.fixture
def web(reports_app):
    return reports_app.test_client()


@pytest.fixture
def oak(app_engine, trust) -> str:
    """Two schools: north (4a, 4b) and south (5a), in the read models the personas are made from."""
    (ReadModelSeed(trust).school("north").school("south")
     .klass("4a", "north").klass("4b", "north").klass("5a", "south", year_group=5)
     .write(app_engine))
    return trust


def csrf_of(web) -> str:
    with web.session_transaction() as session:
        return session.get("csrf", "")


def dev_sign_in(web, trust: str, person: str, next_path: str = "/"):
    page = web.get(f"/sign-in?trust={trust}")
    assert page.status_code == 200
    assert f'value="{person}"' in page.text, f"{person} not offered"
    return web.post("/sign-in", data={"csrf_token": csrf_of(web), "trust": trust, "person": person,
                                      "next": next_path})


def session_principal(web, reports_app):
    with web.session_transaction() as session:
        token = session["token"]
    return reports_app.extensions["fathom.verifier"].verify(token)


def set_cookie(response, name: str = "fathom_session") -> str | None:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header
    return None


# --- development sign-in ------------------------------------------------------------------

def test_dev_sign_in_as_a_teacher_mints_a_token_for_their_class(web, reports_app, oak):
    answer = dev_sign_in(web, oak, "teacher:4a", "/classes/4a")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/classes/4a"
    principal = session_principal(web, reports_app)
    assert principal.trust_id == oak
    assert principal.roles == {"teacher"}
    assert principal.classes == {"4a"} and not principal.schools
    assert principal.sub == "dev-teacher-4a"


def test_dev_sign_in_as_a_school_leader_mints_a_token_for_their_school(web, reports_app, oak):
    assert dev_sign_in(web, oak, "school_leader:south").status_code == 303
    principal = session_principal(web, reports_app)
    assert principal.roles == {"school_leader"} and principal.schools == {"south"} and not principal.classes


def test_dev_sign_in_refuses_people_and_trusts_not_listed(web, oak):
    web.get(f"/sign-in?trust={oak}")
    token = csrf_of(web)
    assert web.post("/sign-in", data={"csrf_token": token, "trust": oak, "person": "teacher:9z"}).status_code == 400
    assert web.post("/sign-in", data={"csrf_token": token, "trust": "no-such-trust",
                                      "person": "trust_leader"}).status_code == 400
    assert web.post("/sign-in", data={"trust": oak, "person": "trust_leader"}).status_code == 403  # no CSRF
    with web.session_transaction() as session:
        assert "token" not in session


def test_dev_sign_in_next_never_leaves_the_site(web, oak):
    answer = dev_sign_in(web, oak, "trust_leader", "//evil.example/")
    assert answer.status_code == 303 and answer.headers["Location"] == "/"


@pytest.mark.parametrize("next_path", ["/\t/evil.example", "/x\r\nSet-Cookie: a=b", "/%2F/evil.example",
                                       "/\\evil.example"])
def test_dev_sign_in_hostile_next_lands_on_home(web, oak, next_path):
    """The same rule as the OpenID Connect sign-in: a tab (dropped by browsers) or CR/LF never gets through."""
    answer = dev_sign_in(web, oak, "trust_leader", next_path)
    assert answer.status_code == 303 and answer.headers["Location"] == "/"


def test_dev_sign_in_is_gone_when_disabled(web_settings, app_engine, oak):
    off = create_app(replace(web_settings, dev_sign_in=False), app_engine).test_client()
    page = off.get("/sign-in")
    assert page.status_code == 200
    assert 'id="dev-sign-in"' not in page.text and "No sign-in is configured" in page.text
    assert off.get(f"/sign-in?trust={oak}").status_code == 404
    assert off.post("/sign-in", data={"csrf_token": csrf_of(off), "trust": oak,
                                      "person": "trust_leader"}).status_code == 404


def test_dev_sign_in_is_off_unless_enabled(settings, command_api, app_engine, oak):
    """Settings loaded from an environment that does not say FATHOM_DEV_SIGN_IN=1 (no JWKS URL either, which
    used to switch it on): nobody can list the trusts, their people, or sign in as one of them."""
    assert not settings.dev_sign_in
    off = create_app(replace(settings, api_url=command_api, web_secret=secrets.token_urlsafe(32)),
                     app_engine).test_client()
    page = off.get("/sign-in")
    assert page.status_code == 200
    assert 'id="dev-sign-in"' not in page.text and 'id="trust-choice"' not in page.text
    assert oak not in page.text
    listing = off.get(f"/sign-in?trust={oak}")
    assert listing.status_code == 404 and "teacher:4a" not in listing.text
    assert off.post("/sign-in", data={"csrf_token": csrf_of(off), "trust": oak,
                                      "person": "trust_leader"}).status_code == 404
    with off.session_transaction() as session:
        assert "token" not in session


# --- the session cookie ---------------------------------------------------------------------

def test_session_cookie_is_httponly_and_samesite_lax(web, oak):
    cookie = set_cookie(dev_sign_in(web, oak, "trust_leader"))
    assert cookie is not None
    flags = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")[1:]}
    assert "httponly" in flags
    assert flags["samesite"].strip().lower() == "samesite=lax"
    assert "secure" not in flags                         # plain http in development


def test_session_cookie_is_secure_behind_https(web_settings, app_engine, oak):
    app = create_app(replace(web_settings, public_url="https://fathom.oak.example"), app_engine)
    cookie = set_cookie(dev_sign_in(app.test_client(), oak, "trust_leader"))
    assert cookie is not None
    assert "secure" in {part.strip().lower() for part in cookie.split(";")[1:]}


def test_session_cookie_is_secure_when_the_request_came_over_tls(reports_app, oak):
    tls = reports_app.test_client()
    tls.environ_base["wsgi.url_scheme"] = "https"
    page = tls.get(f"https://localhost/sign-in?trust={oak}")
    with tls.session_transaction() as session:
        csrf = session["csrf"]
    answer = tls.post("https://localhost/sign-in", data={"csrf_token": csrf, "trust": oak, "person": "trust_leader"})
    assert page.status_code == 200 and answer.status_code == 303
    cookie = set_cookie(answer)
    assert cookie is not None
    assert "secure" in {part.strip().lower() for part in cookie.split(";")[1:]}


def test_the_session_cookie_alone_reads_and_sign_out_ends_it(web, oak):
    dev_sign_in(web, oak, "trust_leader")
    assert web.get("/v1/directory").status_code == 200
    assert web.post("/sign-out").status_code == 403                  # no CSRF token: refused, still signed in
    assert web.get("/v1/directory").status_code == 200
    assert web.post("/sign-out", data={"csrf_token": "wrong"}).status_code == 403
    answer = web.post("/sign-out", data={"csrf_token": csrf_of(web)})
    assert answer.status_code == 303 and answer.headers["Location"] == "/sign-in"
    assert web.get("/v1/directory").status_code == 401
    assert web.get("/").status_code == 303                           # pages send you to sign in


def test_a_new_sign_in_gets_a_new_csrf_token(web, oak):
    web.get(f"/sign-in?trust={oak}")
    before = csrf_of(web)
    dev_sign_in(web, oak, "trust_leader")
    assert csrf_of(web) and csrf_of(web) != before


def test_a_bearer_header_still_works_without_a_session(web, settings, oak):
    answer = web.get("/v1/directory", headers=bearer(token_for(settings, oak, ["trust_leader"])))
    assert answer.status_code == 200
    assert web.post("/api/v1/schools", json={"id": "x"}).status_code == 401  # forwarder: session only


# --- CSRF on writes and the command forwarder -----------------------------------------------

def test_api_writes_without_the_csrf_token_are_refused(web, oak, app_engine):
    dev_sign_in(web, oak, "trust_leader")
    answer = web.post("/api/v1/schools", json={"id": "east", "name": "East Primary"})
    assert answer.status_code == 403
    assert answer.mimetype == "application/problem+json"
    assert "CSRF" in answer.json["detail"]
    wrong = web.post("/api/v1/schools", json={"id": "east", "name": "East Primary"},
                     headers={"X-CSRF-Token": "not-it"})
    assert wrong.status_code == 403


def test_the_forwarder_hands_back_the_command_apis_problem_unchanged(web, oak, command_api):
    dev_sign_in(web, oak, "trust_leader")
    body = {"id": "east", "school_id": "nowhere"}                        # no name, wrong fields
    forwarded = web.post("/api/v1/schools", json=body,
                         headers={"X-CSRF-Token": csrf_of(web), "X-Request-Id": "req-forwarded-1"})
    with web.session_transaction() as session:
        token = session["token"]
    direct = requests.post(f"{command_api}/v1/schools", json=body, timeout=10,
                           headers=bearer(token, **{"X-Request-Id": "req-forwarded-1"}))
    assert forwarded.status_code == direct.status_code == 422
    assert forwarded.headers["Content-Type"] == direct.headers["Content-Type"] == "application/problem+json"
    assert forwarded.get_data() == direct.content
    assert "name" in forwarded.json["errors"]


def test_the_forwarder_carries_commands_and_idempotency_keys(web, oak, settings):
    dev_sign_in(web, oak, "trust_leader")
    headers = {"X-CSRF-Token": csrf_of(web), "Idempotency-Key": f"k-{secrets.token_hex(4)}"}
    first = web.post("/api/v1/schools", json={"id": "east", "name": "East Primary"}, headers=headers)
    assert first.status_code == 201, first.json
    again = web.post("/api/v1/schools", json={"id": "east", "name": "East Primary"}, headers=headers)
    assert again.status_code == 201 and again.json == first.json     # replayed, not applied twice


def test_the_forwarder_keeps_the_apis_role_checks(web, oak):
    dev_sign_in(web, oak, "teacher:4a")
    answer = web.post("/api/v1/schools", json={"id": "east", "name": "East Primary"},
                      headers={"X-CSRF-Token": csrf_of(web)})
    assert answer.status_code == 403
    assert answer.mimetype == "application/problem+json"


@pytest.mark.parametrize("path", [
    "/api/v1/..%2F..%2Fmetrics", "/api/v1/..%2f..%2f.well-known%2fjwks.json", "/api/v1/schools/..%2F..%2F..%2Fmetrics",
    "/api/v1/%2E%2E/%2E%2E/metrics", "/api/v1/schools%5C..%5C..%5Cmetrics", "/api/v1/schools/%252E%252E",
    "/api/v1/./schools", "/api/v1/schools//x", "/api/v1/..%2F..%2Fhealthz", "/api/v1/schools/%0Ax",
])
def test_the_forwarder_reaches_only_v1_command_paths(web, oak, command_api, path):
    """``..%2F`` decoded by the server used to walk out of ``/v1/`` to the API's metrics and keys with the
    person's token. Every such path is now a 404 problem from the web app itself."""
    assert requests.get(f"{command_api}/.well-known/jwks.json", timeout=10).status_code == 200  # there to be reached
    dev_sign_in(web, oak, "trust_leader")
    for method in ("GET", "POST"):
        answer = web.open(path, method=method, headers={"X-CSRF-Token": csrf_of(web)})
        assert answer.status_code == 404, (method, answer.text[:200])
        assert answer.mimetype == "application/problem+json"
        assert "keys" not in answer.json and "# TYPE" not in answer.text and "checks" not in answer.json


def test_an_unreachable_command_api_is_a_clear_503(web_settings, app_engine, oak):
    app = create_app(replace(web_settings, api_url=f"http://127.0.0.1:{free_port()}"), app_engine)
    client = app.test_client()
    dev_sign_in(client, oak, "trust_leader")
    answer = client.post("/api/v1/schools", json={"id": "east", "name": "East"},
                         headers={"X-CSRF-Token": csrf_of(client)})
    assert answer.status_code == 503
    assert "nothing was saved" in answer.json["detail"] and answer.headers["Retry-After"]


# --- what the directory shows whom --------------------------------------------------------

def visible(web) -> dict[str, list[str]]:
    answer = web.get("/v1/directory")
    assert answer.status_code == 200, answer.json
    return {s["school_id"]: [c["class_id"] for c in s["classes"]] for s in answer.json["schools"]}


def test_a_teacher_sees_only_their_class(web, oak):
    dev_sign_in(web, oak, "teacher:4a")
    assert visible(web) == {"north": ["4a"]}


def test_a_school_leader_sees_only_their_school(web, oak):
    dev_sign_in(web, oak, "school_leader:south")
    assert visible(web) == {"south": ["5a"]}


def test_a_trust_leader_sees_everything(web, oak):
    dev_sign_in(web, oak, "trust_leader")
    assert visible(web) == {"north": ["4a", "4b"], "south": ["5a"]}


# --- the meeting page's place ---------------------------------------------------------------------

def main_data(web, path: str) -> dict[str, str]:
    """The ``data-*`` attributes of the page's ``<main>``, by name without ``data-``."""
    answer = web.get(path)
    assert answer.status_code == 200, path
    main = re.search(r'<main id="main"[^>]*>', answer.get_data(as_text=True)).group(0)
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', main))


def test_the_meeting_page_carries_the_grids_defaults_to_a_reader_of_the_class(web, oak, app_engine):
    """So its script starts every read at once: the point and subject the grid would choose, what the address
    names kept; nothing for a class the caller may not read, nor for a point the calendar lacks."""
    (ReadModelSeed(oak).scale("edsm").objective("o-m", "M1", "maths", "edsm")
     .objective("o-e", "E1", "english", "edsm").write(app_engine))
    today = school_today()
    year = academic_year_of(today)
    point = chosen_point(default_points(year), None, today)
    dev_sign_in(web, oak, "teacher:4a")
    data = main_data(web, "/classes/4a/meeting")
    assert (data["class-id"], data["academic-year"], data["point-id"], data["subject"]) == (
        "4a", year, point.point_id, "english")
    grid = web.get("/v1/classes/4a/summative").json
    assert (grid["point"]["academic_year"], grid["point"]["point_id"], grid["subject"]) == (
        data["academic-year"], data["point-id"], data["subject"])
    data = main_data(web, "/classes/4a/meeting?point_id=summer-1&subject=maths")
    assert (data["academic-year"], data["point-id"], data["subject"]) == (year, "summer-1", "maths")
    named = main_data(web, f"/classes/4a/meeting?academic_year={year}&point_id=summer-1&subject=maths")
    assert "point-id" not in named, "the script reads an address that names the place"
    for path in ("/classes/4b/meeting", "/classes/nope/meeting", "/classes/4a/meeting?point_id=no-such-point",
                 "/classes/4a/meeting?academic_year=2026-28"):
        assert not {"academic-year", "point-id", "subject"} & set(main_data(web, path)), path


# --- headers ----------------------------------------------------------------------------------

def test_csp_and_security_headers_on_pages_and_json(web, oak):
    dev_sign_in(web, oak, "trust_leader")
    for path in ("/sign-in", "/", "/classes/4a", "/v1/directory"):
        answer = web.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
        assert answer.headers["X-Frame-Options"] == "DENY", path
    assert web.get("/").headers["Cache-Control"] == "no-store"
    assert web.get("/v1/directory").mimetype == "application/json"
    forwarded = web.post("/api/v1/schools", json={}, headers={"X-CSRF-Token": csrf_of(web)})
    assert forwarded.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_pages_link_versioned_assets_that_may_be_cached_for_good(web) -> None:
    page = web.get("/sign-in").get_data(as_text=True)
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page).group(1)
    assert stylesheet.startswith("/assets/") and stylesheet.endswith("/css/app.css")
    answer = web.get(stylesheet)
    assert answer.status_code == 200 and answer.mimetype == "text/css"
    assert "max-age=31536000" in answer.headers["Cache-Control"]
    answer.close()
    stale = web.get("/assets/0123456789ab/css/app.css")  # an older release's page: today's file, not cached
    assert stale.status_code == 200 and "max-age=0" in stale.headers["Cache-Control"]
    stale.close()
    assert web.get("/assets/0123456789ab/../session.py").status_code == 404
