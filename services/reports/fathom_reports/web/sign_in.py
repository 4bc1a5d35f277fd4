"""Signing in and out of the web app: the development sign-in here, OpenID Connect in :mod:`.oidc`."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request
from werkzeug.wrappers import Response

from fathom_reports.web.extensions import web_engine, web_settings
from fathom_reports.web.next_path import local_path
from fathom_reports.web.personas import ROLE_TITLES, Persona, active_trusts, personas
from fathom_reports.web.session import check_csrf, csrf_token, sign_in, sign_out
from fathom_shared.auth import load_or_create_signing_key, mint_token

bp = Blueprint("sign_in", __name__)


@bp.get("/sign-in")
def sign_in_page() -> str:
    settings = web_settings()
    if not settings.dev_sign_in and "trust" in request.args:
        abort(404)  # the development sign-in's list of a trust's people: not there unless it is enabled
    trusts = active_trusts(web_engine()) if settings.dev_sign_in else []
    chosen = request.args.get("trust") or (trusts[0].trust_id if trusts else None)
    people: dict[str, list[Persona]] = {}
    if settings.dev_sign_in and chosen in {t.trust_id for t in trusts}:
        for persona in personas(web_engine(), chosen):
            people.setdefault(persona.role, []).append(persona)
    return render_template(
        "sign_in.html", title="Sign in", script="sign-in", person=None, csrf_token=csrf_token(),
        dev_sign_in=settings.dev_sign_in, oidc=bool(settings.oidc_issuer), trusts=trusts,
        chosen=chosen, people=people, role_titles=ROLE_TITLES, next=local_path(request.args.get("next")))


@bp.post("/sign-in")
def dev_sign_in() -> Response:
    settings = web_settings()
    if not settings.dev_sign_in:
        abort(404)
    check_csrf()
    trust_id, key = request.form.get("trust", ""), request.form.get("person", "")
    if trust_id not in {t.trust_id for t in active_trusts(web_engine())}:
        abort(400, "Choose one of the listed trusts.")
    persona = next((p for p in personas(web_engine(), trust_id) if p.key == key), None)
    if persona is None:
        abort(400, "Choose one of the listed people.")
    token = mint_token(load_or_create_signing_key(settings.signing_key_path), issuer=settings.jwt_issuer,
                       audience=settings.jwt_audience, trust=trust_id, roles=[persona.role], sub=persona.sub,
                       schools=persona.schools, classes=persona.classes)
    sign_in(token, persona.name)
    return redirect(local_path(request.form.get("next")), code=303)


@bp.post("/sign-out")
def sign_out_now() -> Response:
    check_csrf()
    sign_out()
    return redirect("/sign-in", code=303)
