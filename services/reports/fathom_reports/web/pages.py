"""The web app's pages: server-rendered shells whose scripts read the same JSON API as every client.

Each page needs a signed-in session (else a redirect to sign-in) and renders ``base.html`` with
the person, their roles and the CSRF token; the page's own script (``static/js/<page>.js``) then
fetches ``/v1/…`` (reads, with the session cookie) and posts to ``/api/v1/…`` (commands).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Blueprint, redirect, render_template, request, send_from_directory
from werkzeug.wrappers import Response

from fathom_reports.web.group_menu import group_menu_json
from fathom_reports.web.meeting_place import meeting_place, meeting_reads
from fathom_reports.web.session import csrf_token, signed_in
from fathom_shared.access_policy import Access
from fathom_shared.auth import Principal

Resolve = Callable[[Principal, Mapping[str, str]], Mapping[str, str]]
"""More ``data-*`` for a page, found for the signed-in caller from the page's URL values (see ``Page.resolve``)."""

Preload = Callable[[Mapping[str, str], Mapping[str, str]], tuple[str, ...]]
"""The reads a page's script will make, from its ``data-*`` and query (see ``Page.preload``)."""

STATIC = Path(__file__).parent / "static"
bp = Blueprint("pages", __name__, template_folder="templates")
ONE_YEAR = 365 * 24 * 3600


@functools.cache
def asset_version() -> str:
    """A digest of every static file: part of the assets' URLs, so browsers may cache them for good (a new
    release has new URLs). ES modules import each other by relative path, so they inherit the version."""
    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(STATIC).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


@bp.app_template_global()
def asset(filename: str) -> str:
    return f"/assets/{asset_version()}/{filename}"


@bp.get("/assets/<version>/<path:filename>")
def assets(version: str, filename: str) -> Response:
    # An old page asking for its own release's file gets today's, uncached rather than cached for a year.
    return send_from_directory(STATIC, filename, max_age=ONE_YEAR if version == asset_version() else 0)


def page(template: str, title: str, script: str | None, resolve: Resolve | None = None,
         preload: Preload | None = None, **data: Any) -> Response | str:
    """``template`` for the signed-in person; ``data`` (and what ``resolve`` finds for them) becomes the page
    root's ``data-*`` attributes, and what ``preload`` names is fetched from the page's head."""
    person = signed_in()
    if person is None:
        return redirect("/sign-in?next=" + quote(request.full_path.rstrip("?"), safe="/?=&"), code=303)
    if resolve is not None:
        data = {**resolve(person.principal, data), **data}
    access = Access(person.principal)
    nav = {"trust"} if access.may_read_trust() else set()
    if access.may_read_audit():
        nav.add("audit")
    if access.may_roll_over_some_school():
        nav.add("rollover")
    if access.reads_whole_trust() or person.principal.has_any("school_leader"):
        nav.add("decisions")
    stylesheet = f"css/{script}.css" if script and (STATIC / "css" / f"{script}.css").exists() else None
    return render_template(template, title=title, script=script, stylesheet=stylesheet, person=person,
                           csrf_token=csrf_token(), roles=sorted(person.principal.roles), nav=nav, data=data,
                           preloads=module_imports(f"{script}.js") if script else (),
                           reads=preload(data, request.args) if preload is not None else ())


IMPORT = re.compile(r"""\b(?:from|import)\s*["']\./([\w-]+\.js)["']""")
"""A script's static import of another script of its folder (``import … from "./x.js"``, one line or many, either
quote, or a bare ``import "./x.js"``): what is preloaded here, and what the no-import-cycle rule reads."""


@functools.cache
def module_imports(script: str) -> tuple[str, ...]:
    """Every module ``script`` imports, directly or not: preloaded with the page, so the browser fetches them
    all at once instead of discovering them one level at a time (a round trip per level before any data)."""
    found: list[str] = []
    pending = [script]
    while pending:
        for name in IMPORT.findall((STATIC / "js" / pending.pop()).read_text()):
            if name not in found:
                found.append(name)
                pending.append(name)
    return tuple(found)


@dataclass(frozen=True)
class Page:
    """One page of the web app: its URL rule (whose values become ``data-*`` too), shell and script."""

    endpoint: str
    rule: str
    template: str
    title: str
    script: str
    data: Mapping[str, str] = field(default_factory=dict)
    pupil_groups: bool = False
    """Whether the page's menus offer the pupil groups (``data-pupil-groups``, see ``group_menu``)."""
    resolve: Resolve | None = None
    """What the page's script would otherwise have to read before its other reads could start."""
    preload: Preload | None = None
    """The script's first reads, as the exact URLs it will fetch: the browser starts them while it is still
    loading the scripts, and hands each answer to the script's ``fetch`` of the same URL."""

    def view(self, **url_values: str) -> Response | str:
        groups = {"pupil_groups": group_menu_json()} if self.pupil_groups else {}
        return page(self.template, self.title, self.script, self.resolve, self.preload, **self.data, **url_values,
                    **groups)


def _meeting_place(principal: Principal, values: Mapping[str, str]) -> Mapping[str, str]:
    return meeting_place(principal, values["class_id"], request.args)


PAGES = (
    Page("home", "/", "home.html", "Home", "home"),
    Page("class_analysis", "/classes/<class_id>", "class.html", "Class Analysis", "class-analysis",
         pupil_groups=True),
    Page("class_entry", "/classes/<class_id>/entry", "entry.html", "Enter judgements", "entry"),
    Page("class_summative", "/classes/<class_id>/summative", "entry.html", "Summative codes", "summative"),
    Page("class_meeting", "/classes/<class_id>/meeting", "meeting.html", "Pupil progress meeting", "meeting",
         pupil_groups=True, resolve=_meeting_place, preload=meeting_reads),
    Page("school_meeting", "/schools/<school_id>/meeting", "meeting.html", "School pupil progress meeting",
         "school-meeting"),
    Page("meeting_decisions", "/meeting-decisions", "meeting.html", "Meeting decisions", "decisions"),
    Page("trust_analysis", "/trust", "trust.html", "Trust analysis", "drilldown", {"level": "trust"},
         pupil_groups=True),
    Page("school_analysis", "/schools/<school_id>", "school.html", "School analysis", "drilldown",
         {"level": "school"}, pupil_groups=True),
    Page("trust_summative", "/trust/summative", "summative_figures.html", "Summative codes", "summative-figures",
         {"level": "trust"}, pupil_groups=True),
    Page("school_summative", "/schools/<school_id>/summative", "summative_figures.html", "Summative codes",
         "summative-figures", {"level": "school"}, pupil_groups=True),
    Page("pupil_profile", "/pupils/<pupil_id>", "pupil.html", "Pupil profile", "pupil"),
    Page("parent_report", "/pupils/<pupil_id>/report", "report.html", "Report for parents", "report"),
    Page("intervention", "/interventions/<intervention_id>", "intervention.html", "Intervention", "intervention"),
    Page("audit", "/audit", "audit.html", "Audit", "audit"),
    Page("calendar", "/calendar", "calendar.html", "Assessment calendar", "calendar"),
    Page("rollover", "/rollover", "rollover.html", "New school year", "rollover"),
    Page("judgement_history", "/audit/pupils/<pupil_id>/objectives/<objective_id>", "history.html",
         "Judgement history", "history"),
)

for _page in PAGES:
    bp.add_url_rule(_page.rule, _page.endpoint, _page.view, methods=["GET"])
