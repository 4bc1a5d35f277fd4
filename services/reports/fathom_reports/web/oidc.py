"""Production sign-in: OpenID Connect (authorisation code flow with PKCE) against the trust's issuer.

``GET /sign-in/oidc?next=/classes/4A`` sends the browser to the issuer (found by discovery at
``<issuer>/.well-known/openid-configuration``) with a fresh state, nonce and S256 code challenge kept
in the session cookie; ``GET /sign-in/oidc/callback`` exchanges the code, lets Authlib check the ID
token (signature against the issuer's JWKS, issuer, audience = our client id, nonce, expiry) and then
keeps the **access token** as the session's bearer token — but only after verifying it exactly as
the Fathom APIs will (``FATHOM_JWT_ISSUER``, ``FATHOM_JWT_AUDIENCE``, ``FATHOM_JWKS_URL``, a known
and active trust, known roles). A token the APIs would refuse starts no session: the page says why,
so a person is never signed in to a web app whose every read would then fail.

Registered only when ``FATHOM_OIDC_ISSUER`` is set. The redirect URI is
``FATHOM_PUBLIC_URL + /sign-in/oidc/callback`` (or this request's host when unset); register exactly
that with the issuer. The callback must arrive as a top-level GET (the default ``response_mode=query``):
the session cookie is SameSite=Lax, so a cross-site form_post would arrive without it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, current_app, redirect, render_template, request, session, url_for
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from fathom_reports.web.extensions import web_settings
from fathom_reports.web.next_path import local_path
from fathom_reports.web.session import SignedIn, csrf_token, sign_in, sign_out
from fathom_shared.auth import ROLES, Principal, TokenError
from fathom_shared.config import Settings

bp = Blueprint("oidc", __name__)

CLIENT_EXTENSION = "fathom_reports.web.oidc"
CALLBACK_PATH = "/sign-in/oidc/callback"
NEXT_KEY = "oidc_next"
ASSIGNABLE_ROLES = ", ".join(sorted(ROLES - {"integration", "platform_admin"}))


class SignInRefused(Exception):
    """The sign-in cannot go ahead; ``reason`` is shown to the person, ``detail`` says what to do."""

    def __init__(self, status: int, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.status, self.reason, self.detail = status, reason, detail


def install_oidc(app: Flask, settings: Settings) -> None:
    """Register the issuer with Authlib (discovery happens on the first sign-in) and the two routes."""
    issuer = (settings.oidc_issuer or "").rstrip("/")
    if not settings.oidc_client_id:
        raise ValueError("FATHOM_OIDC_ISSUER is set but FATHOM_OIDC_CLIENT_ID is not")
    oauth = OAuth(app)
    client = oauth.register(
        "fathom_oidc",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": settings.oidc_scope,
            "code_challenge_method": "S256",
            # A public client (no secret) authenticates by PKCE alone.
            "token_endpoint_auth_method": "client_secret_basic" if settings.oidc_client_secret else "none",
            "timeout": 10,
        },
    )
    app.extensions[CLIENT_EXTENSION] = client
    app.register_blueprint(bp)


def redirect_uri(settings: Settings) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/") + CALLBACK_PATH
    return url_for("oidc.callback", _external=True)


# --- routes (thin) --------------------------------------------------------------------

@bp.get("/sign-in/oidc")
def start() -> Response | tuple[str, int]:
    session[NEXT_KEY] = local_path(request.args.get("next"))
    try:
        return current_app.extensions[CLIENT_EXTENSION].authorize_redirect(redirect_uri(web_settings()))
    except (requests.RequestException, ValueError, KeyError, RuntimeError) as exc:
        current_app.logger.warning("OpenID Connect discovery failed: %s", exc)
        return refused_page(SignInRefused(
            502, "Your organisation's sign-in service could not be reached.",
            "Fathom could not read the issuer's OpenID configuration. Try again shortly; if it persists, "
            "tell your administrator (FATHOM_OIDC_ISSUER may be wrong)."), session[NEXT_KEY])


@bp.get(CALLBACK_PATH)
def callback() -> Response | tuple[str, int]:
    next_path = local_path(session.get(NEXT_KEY))
    try:
        outcome = complete_sign_in(current_app.extensions[CLIENT_EXTENSION])
    except SignInRefused as refusal:
        current_app.logger.info("OpenID Connect sign-in refused: %s %s", refusal.reason, refusal.detail)
        sign_out()
        return refused_page(refusal, next_path)
    sign_in(outcome.token, outcome.display_name)
    return redirect(next_path, code=303)


def refused_page(refusal: SignInRefused, next_path: str) -> tuple[str, int]:
    """Why, and a way to try again that still leads where the person was going."""
    return render_template("sign_in_refused.html", title="Sign-in refused", script=None, person=None,
                           csrf_token=csrf_token(), reason=refusal.reason, detail=refusal.detail,
                           next=next_path), refusal.status


# --- the work ----------------------------------------------------------------------------

def complete_sign_in(client: Any) -> SignedIn:
    """Finish the code flow on this callback request; the Fathom token and name, or :class:`SignInRefused`."""
    token = exchange_code(client)
    access_token = token.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise SignInRefused(502, "Your organisation's sign-in service sent no access token.")
    userinfo = token.get("userinfo") or {}
    principal = accepted_principal(access_token)
    name = userinfo.get("name") or userinfo.get("email") or principal.sub
    return SignedIn(principal, str(name), access_token)


def exchange_code(client: Any) -> dict[str, Any]:
    """Authlib: state check, code exchange (with the PKCE verifier), ID token validation."""
    try:
        token = client.authorize_access_token()
    except MismatchingStateError as exc:
        raise SignInRefused(
            400, "This sign-in was not started here, or it has already been used.",
            "The answer from your organisation did not match a sign-in in progress in this browser (state "
            "mismatch). Start again from the sign-in page.") from exc
    except OAuthError as exc:
        raise issuer_error(exc.error, exc.description) from exc
    except JoseError as exc:
        raise SignInRefused(
            403, "Your organisation's identity token could not be verified.",
            f"Fathom checked the ID token's signature, issuer, audience, nonce and expiry: {describe(exc)}. "
            "Start again; if it persists, tell your administrator.") from exc
    except (requests.RequestException, ValueError) as exc:
        raise SignInRefused(
            502, "Your organisation's sign-in service could not be reached.",
            f"The code could not be exchanged for a token ({type(exc).__name__}). Try again shortly.") from exc
    if "userinfo" not in token:
        raise SignInRefused(
            502, "Your organisation's sign-in service sent no ID token.",
            "Fathom asks for the openid scope; check FATHOM_OIDC_SCOPE includes it.")
    return token


def issuer_error(error: str | None, description: str | None) -> SignInRefused:
    if error == "access_denied":
        return SignInRefused(
            403, "Your organisation did not allow the sign-in.",
            "You declined, or your account is not allowed to use Fathom. Ask your administrator to give you "
            "access, then try again." + (f" (The issuer said: {description}.)" if description else ""))
    said = f"{error}: {description}" if description else str(error or "unknown error")
    return SignInRefused(400, "Your organisation's sign-in service reported an error.", f"The issuer said: {said}.")


def accepted_principal(access_token: str) -> Principal:
    """Verify the access token as the Fathom APIs will, including the trust's status."""
    settings = web_settings()
    try:
        principal = current_app.extensions["fathom.verifier"].verify(access_token)
    except TokenError as exc:
        raise SignInRefused(403, "Fathom cannot accept your organisation's token.",
                            explain_refusal(access_token, str(exc), settings)) from exc
    status = current_app.extensions["fathom.trust_status"].status(principal.trust_id)
    if status is None:
        raise SignInRefused(403, "Fathom cannot accept your organisation's token.",
                            f"It names the trust '{principal.trust_id}', which Fathom does not know. Ask your "
                            "administrator to check the token's trust claim.")
    if status != "active":
        raise SignInRefused(403, "Your trust is suspended.", "Nobody in a suspended trust can sign in.")
    return principal


def explain_refusal(token: str, reason: str, settings: Settings) -> str:
    """Why the APIs would refuse ``token``, in words an administrator can act on.

    Reads the claims WITHOUT verifying them: only to explain; the decision was the verifier's.
    """
    claims = unverified_claims(token)
    if claims is None:
        return ("Your organisation's access token is not a JSON Web Token, so the Fathom APIs cannot verify it. "
                "The issuer must issue JWT access tokens for Fathom (see the README, 'Web sign-in in production').")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if claims.get("iss") != settings.jwt_issuer:
        return (f"Your organisation's token was issued by '{claims.get('iss')}', but Fathom accepts tokens from "
                f"'{settings.jwt_issuer}' (FATHOM_JWT_ISSUER).")
    if settings.jwt_audience not in audiences:
        return (f"Your organisation's token is for '{audience}', not for Fathom ('{settings.jwt_audience}', "
                "FATHOM_JWT_AUDIENCE): the sign-in must ask for Fathom's API scope (FATHOM_OIDC_SCOPE).")
    roles = claims.get("roles")
    if not isinstance(roles, list) or not roles or not set(roles) <= ROLES:
        return (f"Your organisation's token has no Fathom roles (its roles claim must list one or more of: "
                f"{ASSIGNABLE_ROLES}). Ask your administrator to assign you a Fathom role.")
    if not isinstance(claims.get("trust"), str) or not claims.get("trust"):
        return "Your organisation's token names no trust (the trust claim is missing). Ask your administrator."
    return f"The Fathom APIs would refuse it: {reason}."


def unverified_claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def describe(exc: Exception) -> str:
    return getattr(exc, "description", None) or str(exc) or type(exc).__name__
