"""``GET /v1/directory``: the schools and classes the caller may read, for navigation (web app, BI tools)."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from fathom_reports.access import READER_ROLES, access_for
from fathom_reports.http.registrar import endpoint
from fathom_reports.loading.directory import load_directory
from fathom_reports.responses import json_response, read_store
from fathom_reports.schemas.directory import DirectorySchema
from fathom_reports.schemas.query import ConsistencyQuerySchema
from fathom_reports.views.directory import visible_directory
from fathom_shared.auth import Principal

blp = Blueprint("directory", __name__, url_prefix="/v1", description="What the caller may read")


@endpoint(blp, "/directory", roles=READER_ROLES, query=ConsistencyQuerySchema, response=DirectorySchema,
          problems={422: "Invalid query arguments."})
def directory(principal: Principal, consistency: int | None = None) -> Response:
    """The schools and classes the caller may read (a teacher: their classes; a school leader: their schools;
    trust-wide roles: everything), with year groups and pupil counts, to navigate by."""
    access, schools = read_store(consistency, principal.trust_id).read(
        principal.trust_id, lambda conn, trust_id: (access_for(conn, principal), load_directory(conn, trust_id)))
    return json_response(visible_directory(access, schools))
