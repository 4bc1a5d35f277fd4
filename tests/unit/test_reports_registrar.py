"""The read-endpoint registrar documents what the stack of decorators it replaces documented."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields

from fathom_reports.http.registrar import NOT_CAUGHT_UP, endpoint


class _Query(Schema):
    n = fields.Integer()


class _WaitingQuery(Schema):
    consistency = fields.Integer()


class _Out(Schema):
    value = fields.String()


def _spec() -> dict[str, Any]:
    app = Flask(__name__)
    app.config.update(API_TITLE="t", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    api = Api(app)
    blp = Blueprint("things", __name__, url_prefix="/v1")

    @endpoint(blp, "/things/<thing_id>", roles=("teacher",), query=_Query, response=_Out,
              problems={403: "Not yours.", 404: "No such thing."}, answers={202: "Started."})
    def thing(thing_id: str, principal: Any, n: int | None = None) -> dict[str, str]:
        """Read a thing."""
        return {"value": thing_id}

    @endpoint(blp, "/waits", roles=("teacher",), query=_WaitingQuery, response=_Out)
    def waits(principal: Any, consistency: int | None = None) -> dict[str, str]:
        """Read after a sequence."""
        return {"value": "x"}

    api.register_blueprint(blp)
    return api.spec.to_dict()


def test_one_call_documents_route_arguments_response_and_problems() -> None:
    operation = _spec()["paths"]["/v1/things/{thing_id}"]["get"]
    responses = operation["responses"]
    assert {"200", "202", "401", "403", "404"} <= set(responses)
    assert responses["401"]["description"] == "No valid bearer token."
    assert responses["404"]["description"] == "No such thing."
    assert "Problem" in str(responses["403"])
    assert "content" not in responses["202"]
    assert [p["name"] for p in operation["parameters"] if p["in"] == "query"] == ["n"]
    assert operation["summary"] == "Read a thing."


def test_a_query_that_takes_consistency_documents_the_503_of_a_wait_that_times_out() -> None:
    paths = _spec()["paths"]
    assert paths["/v1/waits"]["get"]["responses"]["503"]["description"] == NOT_CAUGHT_UP
    assert "503" not in paths["/v1/things/{thing_id}"]["get"]["responses"]
