"""Web sign-in with OpenID Connect, against a real (tiny) issuer over real HTTP.

The issuer is a small Flask app on 127.0.0.1 serving discovery, ``authorize`` (which signs the person
in at once and redirects back with a code), ``token`` (checking the client secret, the redirect URI
and the PKCE S256 verifier; answering an RS256 ID token and access token) and its JWKS. The reports
app is driven through its test client, redirects followed by hand: the browser's hops to the issuer
are real requests, and Authlib's code exchange and JWKS fetch are real requests too (nothing mocked).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
import requests
from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

from fathom_infra.local_servers import free_port
from fathom_reports import create_app
from fathom_reports.loading.freshness import listener_for
from fathom_reports.web.oidc import explain_refusal, unverified_claims
from fathom_reports.web.sign_in import local_path
from fathom_shared.config import Settings
from tests.integration.test_reports_api import ReadModelSeed

CLIENT_ID, CLIENT_SECRET = "fathom-web", "web-client-secret"


@dataclass
class FakeIssuer:
    """An OpenID provider that signs in ``person`` at once; ``mode`` makes it misbehave on purpose."""

    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, private=True,
                                                                    parameters={"use": "sig", "alg": "RS256"}))
    person: dict[str, Any] = field(default_factory=dict)
    mode: str = "ok"  # ok | deny | wrong_nonce
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.server = make_server("127.0.0.1", 0, self.app(), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode({"alg": "RS256", "kid": self.key.thumbprint(), "typ": "JWT"}, claims, self.key)

    def app(self) -> Flask:
        app, issuer = Flask("fake_issuer"), self

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(issuer=issuer.url, authorization_endpoint=f"{issuer.url}/authorize",
                           token_endpoint=f"{issuer.url}/token", jwks_uri=f"{issuer.url}/jwks",
                           response_types_supported=["code"], subject_types_supported=["public"],
                           id_token_signing_alg_values_supported=["RS256"],
                           code_challenge_methods_supported=["S256"],
                           token_endpoint_auth_methods_supported=["client_secret_basic"])

        @app.get("/jwks")
        def jwks():
            public = issuer.key.as_dict(private=False)
            public["kid"] = issuer.key.thumbprint()
            return jsonify(keys=[public])

        @app.get("/authorize")
        def authorize():
            args = request.args.to_dict()
            issuer.authorize_requests.append(args)
            back = args["redirect_uri"]
            if issuer.mode == "deny":
                return redirect(back + "?" + urlencode({"error": "access_denied", "state": args["state"],
                                                        "error_description": "The user declined"}))
            assert args["client_id"] == CLIENT_ID and args["response_type"] == "code"
            code = secrets.token_urlsafe(16)
            issuer.codes[code] = args
            return redirect(back + "?" + urlencode({"code": code, "state": args["state"]}))

        @app.post("/token")
        def token():
            form = request.form.to_dict()
            issuer.token_requests.append(form)
            auth = request.authorization
            if auth is None or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET):
                return jsonify(error="invalid_client"), 401
            asked = issuer.codes.pop(form.get("code", ""), None)
            if asked is None or form.get("redirect_uri") != asked["redirect_uri"]:
                return jsonify(error="invalid_grant", error_description="unknown code or redirect_uri"), 400
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != asked.get("code_challenge"):
                return jsonify(error="invalid_grant", error_description="PKCE verification failed"), 400
            now = int(time.time())
            person = dict(issuer.person)
            access = {"iss": issuer.url, "aud": "fathom", "sub": person["sub"], "iat": now, "exp": now + 600,
                      "jti": str(uuid.uuid4()), **person["access"]}
            nonce = "not-the-nonce-sent" if issuer.mode == "wrong_nonce" else asked["nonce"]
            identity = {"iss": issuer.url, "aud": CLIENT_ID, "sub": person["sub"], "iat": now, "exp": now + 600,
                        "nonce": nonce, **person.get("identity", {})}
            return jsonify(access_token=issuer.sign(access), token_type="Bearer", expires_in=600,
                           id_token=issuer.sign(identity))

        return app


@pytest.fixture(scope="module", autouse=True)
def projection_listener_stopped_afterwards(settings):
    yield
    listener_for(settings.app_database_url).stop()


@pytest.fixture(scope="module")
def issuer() -> Iterator[FakeIssuer]:
    fake = FakeIssuer()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def oidc_settings(settings: Settings, issuer: FakeIssuer) -> Settings:
    """The reports app as in production: tokens from the issuer (its JWKS), no development sign-in."""
    return replace(settings, oidc_issuer=issuer.url, oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET,
                   jwt_issuer=issuer.url, jwt_audience="fathom", jwks_url=f"{issuer.url}/jwks",
                   dev_sign_in=False, web_secret=secrets.token_urlsafe(32))


@pytest.fixture(scope="module")
def reports_app(oidc_settings, app_engine):
    return create_app(oidc_settings, app_engine)


@pytest.fixture
def web(reports_app, issuer):
    issuer.mode = "ok"
    issuer.person = {}
    return reports_app.test_client()


def teacher(trust: str, **identity: Any) -> dict[str, Any]:
    return {"sub": "entra-oid-123", "access": {"trust": trust, "roles": ["teacher"], "classes": ["4a"]},
            "identity": identity or {"name": "Ms Ada Reid", "email": "a.reid@oak.example"}}


def begin(web, issuer: FakeIssuer, next_path: str = "/") -> str:
    """The browser's first two hops: to the issuer (real HTTP) and the issuer's redirect back. The callback URL."""
    start = web.get(f"/sign-in/oidc?next={quote(next_path)}")
    assert start.status_code == 302, start.text
    to_issuer = start.headers["Location"]
    assert to_issuer.startswith(f"{issuer.url}/authorize?")
    back = requests.get(to_issuer, allow_redirects=False, timeout=10)
    assert back.status_code == 302
    callback = urlsplit(back.headers["Location"])
    assert callback.path == "/sign-in/oidc/callback"
    return f"{callback.path}?{callback.query}"


def sign_in_via_issuer(web, issuer: FakeIssuer, next_path: str = "/"):
    return web.get(begin(web, issuer, next_path))


def has_session(web) -> bool:
    cookie = web.get_cookie("fathom_session")
    if cookie is None:
        return False
    with web.session_transaction() as session:
        return "token" in session


def test_sign_in_with_the_issuer_starts_a_session_the_read_api_accepts(web, issuer, trust, app_engine):
    ReadModelSeed(trust).school("north").klass("4a", "north").klass("4b", "north").write(app_engine)
    issuer.person = teacher(trust)

    answer = sign_in_via_issuer(web, issuer, "/classes/4a")

    assert answer.status_code == 303, answer.text
    assert answer.headers["Location"] == "/classes/4a"
    asked = issuer.authorize_requests[-1]
    assert asked["code_challenge_method"] == "S256" and asked["code_challenge"]
    assert asked["nonce"] and asked["state"]
    assert set(asked["scope"].split()) >= {"openid", "profile", "email"}
    assert asked["redirect_uri"] == "http://localhost/sign-in/oidc/callback"
    assert issuer.token_requests[-1]["code_verifier"]
    directory = web.get("/v1/directory")                # the cookie alone: no Authorization header
    assert directory.status_code == 200, directory.json
    assert directory.json["sub"] == "entra-oid-123" and directory.json["roles"] == ["teacher"]
    assert [c["class_id"] for s in directory.json["schools"] for c in s["classes"]] == ["4a"]
    home = web.get("/")
    assert home.status_code == 200
    assert "Ms Ada Reid" in home.text


def test_name_falls_back_to_the_email(web, issuer, trust):
    issuer.person = teacher(trust, email="b.okri@oak.example")
    assert sign_in_via_issuer(web, issuer).status_code == 303
    assert "b.okri@oak.example" in web.get("/").text


def test_next_is_only_ever_a_local_path(web, issuer, trust):
    issuer.person = teacher(trust)
    answer = sign_in_via_issuer(web, issuer, "https://evil.example/phish")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/"


HOSTILE_NEXT = [
    "/\t/evil.example", "/%09/evil.example", "/\n/evil.example", "/\r/evil.example", "/x\r\nSet-Cookie: a=b",
    "/\\evil.example", "/%5Cevil.example", "%2F%2Fevil.example", "/%2F/evil.example", "/%2f%2fevil.example",
    "//evil.example", "///evil.example", "https://evil.example/", "HTTPS:evil.example", "\t//evil.example",
    " //evil.example", "/\x00/evil.example", "/\x7f/evil.example",
]


@pytest.mark.parametrize("next_path", HOSTILE_NEXT)
def test_hostile_next_ends_on_the_home_page_after_an_oidc_sign_in(web, issuer, trust, next_path):
    """Tabs and line breaks (dropped by browsers: ``/<tab>/evil`` is ``//evil``), backslashes and encoded
    slashes: the browser lands on ``/``, never another host, and a CR/LF is no 500. Before, ``/%09/evil.example``
    passed the prefix check and CR/LF broke the Location header. A NUL is refused before anything else
    (every service's input rule): no redirect at all."""
    issuer.person = teacher(trust)
    if "\x00" in next_path:
        refused = web.get(f"/sign-in/oidc?next={quote(next_path)}")
        assert refused.status_code == 422 and "Location" not in refused.headers
        assert list(refused.get_json()["errors"]) == ["query.next"]
        return
    answer = sign_in_via_issuer(web, issuer, next_path)
    assert answer.status_code == 303, answer.text
    assert answer.headers["Location"] == "/"


def test_a_local_next_with_odd_characters_is_kept_but_quoted(web, issuer, trust):
    issuer.person = teacher(trust)
    answer = sign_in_via_issuer(web, issuer, "/classes/4a?subject=maths & more")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/classes/4a?subject=maths%20&%20more"


def test_the_refused_pages_try_again_link_keeps_only_a_local_next(web, issuer, trust):
    issuer.mode = "deny"
    answer = sign_in_via_issuer(web, issuer, "/\t/evil.example")
    assert answer.status_code == 403
    assert 'href="/sign-in/oidc?next=/"' in answer.text


def test_redirect_uri_uses_the_public_url_when_set(oidc_settings, app_engine, issuer, trust):
    app = create_app(replace(oidc_settings, public_url="https://fathom.oak.example/"), app_engine)
    start = app.test_client().get("/sign-in/oidc")
    assert start.status_code == 302
    query = dict(p.split("=", 1) for p in urlsplit(start.headers["Location"]).query.split("&"))
    assert requests.utils.unquote(query["redirect_uri"]) == "https://fathom.oak.example/sign-in/oidc/callback"


def test_a_bad_state_is_refused(web, issuer, trust):
    issuer.person = teacher(trust)
    callback = begin(web, issuer)
    path, _, query = callback.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&"))
    params["state"] = "forged-state"
    answer = web.get(f"{path}?{urlencode(params)}")
    assert answer.status_code == 400
    assert "not started here" in answer.text and "state mismatch" in answer.text
    assert not has_session(web)


def test_a_callback_replayed_is_refused(web, issuer, trust):
    issuer.person = teacher(trust)
    callback = begin(web, issuer)
    assert web.get(callback).status_code == 303
    web.post("/sign-out", data={"csrf_token": csrf_of(web)})
    again = web.get(callback)
    assert again.status_code == 400
    assert not has_session(web)


def test_a_wrong_nonce_is_refused(web, issuer, trust):
    issuer.person = teacher(trust)
    issuer.mode = "wrong_nonce"
    answer = sign_in_via_issuer(web, issuer)
    assert answer.status_code == 403
    assert "identity token could not be verified" in answer.text and "nonce" in answer.text
    assert not has_session(web)
    assert web.get("/v1/directory").status_code == 401


def test_a_token_without_fathom_roles_is_refused(web, issuer, trust):
    issuer.person = {"sub": "someone", "access": {"trust": trust, "roles": []}, "identity": {"name": "Someone"}}
    answer = sign_in_via_issuer(web, issuer)
    assert answer.status_code == 403
    assert "has no Fathom roles" in answer.text
    assert not has_session(web)
    assert web.get("/v1/directory").status_code == 401


def test_a_token_for_an_unknown_trust_is_refused(web, issuer):
    issuer.person = teacher("no-such-trust")
    answer = sign_in_via_issuer(web, issuer)
    assert answer.status_code == 403
    assert "no-such-trust" in answer.text and "does not know" in answer.text
    assert not has_session(web)


def test_access_denied_by_the_issuer_is_explained(web, issuer, trust):
    issuer.person = teacher(trust)
    issuer.mode = "deny"
    answer = sign_in_via_issuer(web, issuer, "/classes/4a")
    assert answer.status_code == 403
    assert "did not allow the sign-in" in answer.text and "The user declined" in answer.text
    assert 'href="/sign-in/oidc?next=/classes/4a"' in answer.text  # trying again still leads there
    assert not has_session(web)


def test_a_failed_sign_in_ends_an_earlier_session(web, issuer, trust):
    issuer.person = teacher(trust)
    assert sign_in_via_issuer(web, issuer).status_code == 303
    issuer.mode = "deny"
    assert sign_in_via_issuer(web, issuer).status_code == 403
    assert web.get("/v1/directory").status_code == 401


def test_an_unreachable_issuer_is_explained(oidc_settings, app_engine):
    nobody = f"http://127.0.0.1:{free_port()}"          # bound, then released: nothing listens there
    app = create_app(replace(oidc_settings, oidc_issuer=nobody), app_engine)
    answer = app.test_client().get("/sign-in/oidc")
    assert answer.status_code == 502
    assert "could not be reached" in answer.text


def test_sign_in_page_offers_the_organisation_and_no_development_sign_in(web):
    page = web.get("/sign-in")
    assert page.status_code == 200
    assert "/sign-in/oidc?next=" in page.text
    assert 'id="dev-sign-in"' not in page.text
    assert web.post("/sign-in", data={"trust": "x", "person": "trust_leader"}).status_code == 404


# --- pure helpers ------------------------------------------------------------------------

@pytest.mark.parametrize(("target", "expected"), [
    (None, "/"), ("", "/"), ("/classes/4a?subject=maths", "/classes/4a?subject=maths"),
    ("https://evil.example/", "/"), ("//evil.example/x", "/"), ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"), ("classes/4a", "/"),
    *[(hostile, "/") for hostile in HOSTILE_NEXT],
    ("/pupils/Zoë", "/pupils/Zo%C3%AB"), ("/classes/4a%2Fx", "/classes/4a%2Fx"),
])
def test_local_path_never_leaves_the_site(target, expected):
    assert local_path(target) == expected


def test_explanations_name_what_is_wrong(settings):
    key = RSAKey.generate_key(2048, private=True)
    conf = replace(settings, jwt_issuer="https://idp.example", jwt_audience="fathom")

    def token(**claims: Any) -> str:
        base = {"iss": "https://idp.example", "aud": "fathom", "sub": "s", "trust": "t", "roles": ["teacher"]}
        return jwt.encode({"alg": "RS256"}, {k: v for k, v in {**base, **claims}.items() if v is not None}, key)

    assert "not a JSON Web Token" in explain_refusal("opaque-google-token", "x", conf)
    assert "issued by 'https://other.example'" in explain_refusal(token(iss="https://other.example"), "x", conf)
    assert "not for Fathom" in explain_refusal(token(aud="api://graph"), "x", conf)
    assert "has no Fathom roles" in explain_refusal(token(roles=None), "x", conf)
    assert "has no Fathom roles" in explain_refusal(token(roles=["Teacher"]), "x", conf)
    assert "names no trust" in explain_refusal(token(trust=None), "x", conf)
    assert "expired" in explain_refusal(token(), "invalid token: The token is expired", conf)
    assert unverified_claims("a.b") is None and unverified_claims("a.!!!.c") is None


# --- helpers -------------------------------------------------------------------------------

def csrf_of(web) -> str:
    with web.session_transaction() as session:
        return session.get("csrf", "")

