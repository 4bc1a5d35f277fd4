"""HTTP entry points of the command API: the ``command()`` registrar and the route table.

The only module of the command API that reads the Flask request: it parses and authenticates,
reads an import's uploaded CSV files into text, takes the idempotency key, request hash and
request id from the request, hands the command to :func:`fathom_api.executor.execute`, and
maps a refused command to its problem+json answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from flask import current_app, g, request
from flask_smorest import Blueprint

import fathom_api.cycle_schemas as cycle_schemas
import fathom_api.schemas as schemas
from fathom_api.access import ASSESSORS, ROSTER_KEEPERS, ROSTER_WRITERS, STAFF_ERASERS, TRUST_WIDE
from fathom_api.commands import (
    calendar,
    classes,
    interventions,
    judgements,
    meetings,
    objectives,
    parent_reports,
    pupils,
    rollover,
    scales,
    schools,
    scores,
    staff,
    summative,
    summative_amendments,
    trust_settings,
)
from fathom_api.commands import judgement_amendments as amendments
from fathom_api.executor import UNPARSED, CommandContext, Decide, canonical_json, execute, request_hash
from fathom_api.imports import framework as framework_import
from fathom_api.imports import next_year_roster, oneroster
from fathom_api.imports import scores as scores_import
from fathom_api.imports.csv_table import MAX_FILE_BYTES
from fathom_api.imports.oneroster_files import FILES as ROSTER_FILES
from fathom_api.refusals import CommandRefused, Conflict, Forbidden, Invalid, InvalidFile, NotFound
from fathom_api.scale_presets import preset_list
from fathom_shared.auth import Principal
from fathom_shared.summative_scale import PRESETS as SUMMATIVE_PRESETS
from fathom_shared.web.authentication import authenticate_every_request, requires
from fathom_shared.web.input_refusal import unstorable_text
from fathom_shared.web.json_body import UNREADABLE, ParseOnceParser, json_body
from fathom_shared.web.problems import Problem

blp = Blueprint("commands", __name__, url_prefix="/v1", description="Commands that append assessment events.")
blp.ARGUMENTS_PARSER = ParseOnceParser()  # the schemas read the body the input rule already parsed

IDEMPOTENCY = {"parameters": [{
    "in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "maxLength": 200},
    "description": "Retrying with the same key and body returns the original answer without appending again.",
}]}
authenticate_every_request(blp)

ERRORS = (400, 401, 403, 409, 422)
MAX_KEY_LENGTH = 200
ANSWERS: dict[type[CommandRefused], tuple[int, str]] = {
    InvalidFile: (422, "Invalid file"), Invalid: (422, "Invalid request"), Forbidden: (403, "Forbidden"),
    NotFound: (404, "Not Found"), Conflict: (409, "Conflict"),
}
"""Each refusal's answer (most specific class first)."""


def _run(principal: Principal, decide: Decide, status: int = 201) -> tuple[dict[str, Any], int]:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
        raise Problem(400, "Bad Request", errors={"Idempotency-Key": [f"Use 1-{MAX_KEY_LENGTH} characters."]})
    context = CommandContext(principal, key, _request_hash() if key else "", g.get("request_id"))
    try:
        return execute(current_app.extensions["fathom.engine"], context, decide, status)
    except CommandRefused as refused:
        raise as_problem(refused) from refused


def as_problem(refused: CommandRefused) -> Problem:
    """The problem+json answer to a refused command."""
    status, title = next(answer for kind, answer in ANSWERS.items() if isinstance(refused, kind))
    return Problem(status, title, refused.detail, errors=refused.errors)


def _request_hash() -> str:
    if request.mimetype == "multipart/form-data":
        canonical = _multipart_parts()
    else:
        canonical = canonical_json(request.get_data(cache=True), _parsed_body())
    return request_hash(request.method, request.path, request.query_string, canonical)


def _parsed_body() -> Any:
    """The body as the input rule and the endpoint's schema parsed it (once), if it is JSON they could read."""
    try:
        return json_body()
    except UNREADABLE:
        return UNPARSED


def _multipart_parts() -> bytes:
    """The parts of a multipart body, not its bytes: a client picks a fresh boundary on every retry."""
    parts = []
    for name, upload in request.files.items(multi=True):
        upload.stream.seek(0)
        parts.append([name, upload.filename or "", hashlib.sha256(upload.stream.read()).hexdigest()])
        upload.stream.seek(0)
    parts += [[name, "", value] for name, value in request.form.items(multi=True)]
    return json.dumps(sorted(parts)).encode()


def csv_upload(*files: str) -> dict[str, Any]:
    """OpenAPI request body of an import: one ``text/csv`` body, or multipart files."""
    content: dict[str, Any] = {"multipart/form-data": {"schema": {"type": "object", "properties": {
        name: {"type": "string", "format": "binary"} for name in files}, "required": list(files)}}}
    if files == ("file",):
        content["text/csv"] = {"schema": {"type": "string"}}
    return {"requestBody": {"required": True, "content": content}}


CSV_TYPES = ("text/csv", "text/plain", "application/csv")


def upload_text(field: str = "file") -> str:
    """The CSV text of the request: a ``text/csv`` body, or a multipart file field ``field``."""
    if request.mimetype == "multipart/form-data":
        return uploaded_files([field])[field]
    if request.mimetype not in CSV_TYPES:
        raise Problem(415, "Unsupported Media Type", f"Send text/csv or multipart/form-data with a '{field}' file.")
    return _decode(request.get_data(cache=True), field)


def uploaded_files(names: Iterable[str], *, required: bool = True) -> dict[str, str]:
    """Multipart file fields by name (a part may be named by its field or its filename)."""
    if request.mimetype != "multipart/form-data":
        raise Problem(415, "Unsupported Media Type", "Send multipart/form-data with the CSV files.")
    request.get_data(cache=True)  # keep the raw body for the idempotency hash; form parsing reuses it
    by_name = {}
    for key, upload in request.files.items(multi=True):
        by_name[key] = upload
        if upload.filename:
            by_name.setdefault(upload.filename.rsplit("/", 1)[-1], upload)
    texts, missing = {}, {}
    for name in names:
        upload = by_name.get(name)
        if upload is None:
            missing[name] = ["Missing file."]
            continue
        texts[name] = _decode(upload.read(), name)
    if missing and required:
        raise Problem(422, "Invalid request", "Nothing was imported.", errors=missing)
    return texts


def _decode(raw: bytes, name: str) -> str:
    if len(raw) > MAX_FILE_BYTES:
        raise Problem(413, "Payload Too Large", f"{name} is over {MAX_FILE_BYTES // (1024 * 1024)} MiB.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Problem(422, "Invalid file", errors={name: [f"Not UTF-8 text (byte {exc.start})."]}) from exc
    if problem := unstorable_text(text):
        raise Problem(422, "Invalid file", errors={name: [problem]})
    return text


def with_upload(build: Callable[..., Decide], read_upload: Callable[[], Any]) -> Callable[..., Decide]:
    """``build`` given the request's upload as plain text, read here: an import never sees the request."""

    def build_with_upload(payload: dict[str, Any], **path_params: Any) -> Decide:
        return build(payload, read_upload(), **path_params)

    build_with_upload.__name__ = build.__name__
    build_with_upload.__doc__ = build.__doc__
    return build_with_upload


def command(
    path: str, schema: type | None, roles: tuple[str, ...], build: Callable[..., Decide], *,
    method: str = "post", status: int = 201, location: str = "json", doc: dict[str, Any] | None = None,
    response: type = schemas.WriteOut,
) -> None:
    """Register ``method path``: parse with ``schema``, require ``roles``, run the command ``build`` makes.

    ``build`` gets the parsed payload (``{}`` without a schema) and the path's parameters by name.
    ``location="query"`` parses the query string instead, for commands whose body is a file.
    """

    def view(*args: Any, principal: Principal, **path_params: Any) -> tuple[dict[str, Any], int]:
        payload = args[0] if args else {}
        try:
            decide = build(payload, **path_params)
        except CommandRefused as refused:
            raise as_problem(refused) from refused
        return _run(principal, decide, status)

    view.__name__ = build.__name__
    view.__doc__ = build.__doc__
    decorated: Any = requires(*roles)(view)
    codes = (*ERRORS, 404) if "{" in path else ERRORS
    for code in codes:
        decorated = blp.alt_response(code, description="application/problem+json")(decorated)
    decorated = blp.doc(**{**IDEMPOTENCY, **(doc or {})})(decorated)
    if response is schemas.ImportOut:
        decorated = blp.alt_response(200, schema=response, description="A dry run: nothing written.")(decorated)
    decorated = blp.response(status, response)(decorated)
    if schema is not None:
        # One instance for every request: given the class, webargs would build the schema (its fields, nested
        # schemas and plain-load plan) anew on each request, which cost more than validating a judgement.
        decorated = blp.arguments(schema(), location=location)(decorated)
    blp.route(_flask_path(path), methods=[method.upper()])(decorated)


def _flask_path(path: str) -> str:
    """``/a/{id}/b`` (as written in the table, like OpenAPI) → Flask's ``/a/<id>/b``."""
    return path.replace("{", "<").replace("}", ">")


def record_judgements(payload: dict) -> Decide:
    """Record a batch of judgements, all or nothing."""
    return judgements.record_judgements(payload, current_app.extensions["fathom.settings"].max_batch)


command("/schools", schemas.SchoolIn, ROSTER_WRITERS, schools.create_school)
command("/classes", schemas.ClassIn, ROSTER_KEEPERS, classes.create_class)
command("/pupils", schemas.PupilIn, ROSTER_KEEPERS, pupils.register_pupil)
command("/scales", schemas.ScaleIn, ROSTER_WRITERS, scales.define_scale)
command("/objectives", schemas.ObjectiveIn, ROSTER_WRITERS, objectives.define_objective)
command("/judgements", schemas.JudgementBatchIn, ASSESSORS, record_judgements)
command("/objectives-taught", schemas.ObjectivesTaughtIn, ASSESSORS, classes.mark_objectives_taught)
command("/interventions", schemas.InterventionIn, ASSESSORS, interventions.start_intervention)
command("/judgements/{judgement_id}/correction", schemas.CorrectionIn, ASSESSORS, amendments.correct_judgement)
command("/judgements/{judgement_id}/withdrawal", schemas.WithdrawalIn, ASSESSORS, amendments.withdraw_judgement)
SETTING = {"method": "put", "status": 200}
command("/settings/rollup", schemas.RollupIn, TRUST_WIDE, trust_settings.change_rollup_method, **SETTING)
command("/settings", schemas.TrustSettingsIn, TRUST_WIDE, trust_settings.change_trust_settings, **SETTING)
command("/calendar/{academic_year}", cycle_schemas.CalendarIn, TRUST_WIDE, calendar.set_assessment_points, **SETTING)
command("/summative-scale", cycle_schemas.SummativeScaleIn, TRUST_WIDE, summative.define_scale, **SETTING)
command("/summative-scale/presets/{preset}", None, TRUST_WIDE, summative.choose_preset, status=200)
command("/classes/{class_id}/summative", cycle_schemas.SummativeGridIn, ASSESSORS, summative.record_grid)
command("/summative-judgements/{judgement_id}/correction", cycle_schemas.SummativeCorrectionIn, ASSESSORS,
        summative_amendments.correct_summative)
command("/summative-judgements/{judgement_id}/withdrawal", schemas.WithdrawalIn, ASSESSORS,
        summative_amendments.withdraw_summative)
command("/rollover", cycle_schemas.RolloverIn, ROSTER_KEEPERS, rollover.roll_over, status=201,
        response=cycle_schemas.RolloverOut, doc={"responses": {"200": {"description": (
            "A dry run, or a roll-over that was done already: nothing appended.")}}})
command("/rollover/roster", cycle_schemas.RolloverRosterQuery, ROSTER_KEEPERS,
        with_upload(next_year_roster.roll_over_from_roster, lambda: uploaded_files(ROSTER_FILES)), location="query",
        response=cycle_schemas.RolloverOut, doc={**csv_upload(*ROSTER_FILES), "responses": {"200": {"description": (
            "A dry run, or a roll-over that was done already: nothing appended.")}}})
command("/scales/presets/{preset}", schemas.PresetAdoptIn, ROSTER_WRITERS, scales.adopt_preset)
command("/scales/{scale_id}/versions", schemas.ScaleVersionIn, ROSTER_WRITERS, scales.new_scale_version)
command("/objectives/{objective_id}/retirement", schemas.RetirementIn, ROSTER_WRITERS, objectives.retire_objective)
command("/pupils/{pupil_id}/move", schemas.MoveIn, ROSTER_KEEPERS, pupils.move_pupil)
command("/pupils/{pupil_id}/leaving", schemas.LeavingIn, ROSTER_KEEPERS, pupils.record_leaving)
command("/pupils/{pupil_id}/groups", schemas.GroupsChangeIn, ROSTER_KEEPERS, pupils.change_groups, **SETTING)
command("/pupils/{pupil_id}/report-comment", cycle_schemas.ReportCommentIn, ASSESSORS,
        parent_reports.write_report_comment, **SETTING)
command("/pupils/{pupil_id}/personal-data", None, ROSTER_KEEPERS, pupils.erase_personal_data,
        method="delete", status=200)
command("/staff/{staff_sub}/personal-data", None, STAFF_ERASERS, staff.erase_staff_member,
        method="delete", status=200)
command("/classes/{class_id}/staff", schemas.StaffIn, ROSTER_KEEPERS, staff.assign_staff)
command("/classes/{class_id}/staff/{staff_sub}", None, ROSTER_KEEPERS, staff.unassign_staff,
        method="delete", status=200)
command("/interventions/{intervention_id}/pupils", schemas.InterventionPupilsIn, ASSESSORS,
        interventions.change_pupils)
command("/interventions/{intervention_id}/end", schemas.InterventionEndIn, ASSESSORS, interventions.end_intervention)
command("/classes/{class_id}/meetings/{academic_year}/{point_id}/decisions", cycle_schemas.MeetingDecisionIn, ASSESSORS,
        meetings.record_class_decision)
command("/schools/{school_id}/meetings/{academic_year}/{point_id}/decisions", cycle_schemas.MeetingDecisionIn,
        ("school_leader", "trust_leader"), meetings.record_school_decision)
command("/meeting-decisions/{decision_id}/review", cycle_schemas.MeetingReviewIn, ASSESSORS, meetings.review_decision)
IMPORT = {"location": "query", "response": schemas.ImportOut}
command("/objectives/import", schemas.ImportQuery, ROSTER_WRITERS,
        with_upload(framework_import.import_objectives, upload_text), doc=csv_upload("file"), **IMPORT)
command("/roster/import", schemas.RosterImportQuery, ROSTER_KEEPERS,
        with_upload(oneroster.import_roster, lambda: uploaded_files(ROSTER_FILES)),
        doc=csv_upload(*ROSTER_FILES), **IMPORT)

command("/standardised-scores", schemas.ScoreBatchIn, ASSESSORS, scores.record_scores)
command("/standardised-scores/import", schemas.ImportQuery, ASSESSORS,
        with_upload(scores_import.import_scores, upload_text), doc=csv_upload("file"), **IMPORT)


@blp.get("/scales/presets")
@blp.response(200, schemas.PresetOut(many=True))
def list_scale_presets() -> list[dict[str, Any]]:
    """Ready-made scales, each adoptable in one call with ``POST /v1/scales/presets/{preset}``."""
    return preset_list()


@blp.get("/summative-scale/presets")
@blp.response(200, cycle_schemas.SummativePresetOut(many=True))
def list_summative_presets() -> list[dict[str, Any]]:
    """Ready-made summative scales, each chosen in one call with ``POST /v1/summative-scale/presets/{preset}``."""
    return [{"preset": key, **preset} for key, preset in SUMMATIVE_PRESETS.items()]
