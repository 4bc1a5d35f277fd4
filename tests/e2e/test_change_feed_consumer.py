"""The example consumer (infra/examples/class_copy_consumer.py) against every real process.

It follows the SSE change feed with an ``integration`` token, is cut off mid-burst and resumes
with ``Last-Event-ID``; afterwards its copy of class 4A must equal what the reports API shows,
and it must have applied every notice once. A webhook subscribed through the API, and the
trust's change topic, deliver the same notices.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
import requests

from fathom_api.validation import school_today
from fathom_infra.local_servers import wait_until
from fathom_reports.webhooks.signing import HEADER, verify_signature
from tests.support import SmallTrust, token_for
from tests.webhook_receiver import Receiver

EXAMPLE = Path(__file__).resolve().parents[2] / "infra" / "examples" / "class_copy_consumer.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("class_copy_consumer", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def receiver():
    receiver = Receiver(failures=2)
    yield receiver
    receiver.close()


def test_example_consumer_keeps_class_copy_in_sync(system, trust, make_trust, receiver, tmp_path) -> None:
    example = load_example()
    settings = system.settings
    leader = token_for(settings, trust, ["trust_leader"], sub="head")
    integration = token_for(settings, trust, ["integration"], sub="bi")

    def as_leader(path: str, body: dict) -> dict:
        response = system.post(leader, path, body)
        assert response.status_code == 201, response.text
        return response.json()

    registered = requests.post(system.reports + "/v1/webhooks", json={"url": receiver.url},
                               headers={"Authorization": f"Bearer {integration}"}, timeout=30)
    assert registered.status_code == 201, registered.text
    hook = registered.json()

    small = SmallTrust().create(as_leader)
    other = make_trust("other")  # another trust writing at the same time: must never reach this consumer
    SmallTrust().create(lambda path, body: system.post(token_for(settings, other, ["trust_leader"]), path,
                                                       body).json())

    copy = example.ClassCopy("4A")
    follower = example.Follower(system.reports, integration, copy, state=tmp_path / "copy.json")
    thread = threading.Thread(target=follower.run, daemon=True)
    thread.start()

    today = school_today()
    last = 0
    ids: dict[str, str] = {}
    for round_ in range(6):
        day = (today - timedelta(days=10 - round_)).isoformat()
        batch = [{"pupil_id": p, "objective_id": o, "value": 1 + (n + round_) % 4, "assessed_on": day}
                 for n, p in enumerate(small.pupils_a + small.pupils_b) for o in small.objectives]
        answer = as_leader("/v1/judgements", {"judgements": batch})
        ids = dict(zip([f"{j['pupil_id']}/{j['objective_id']}" for j in batch], answer["event_ids"], strict=True))
        last = answer["last_sequence"]
        if round_ == 2:
            follower.disconnect()  # cut off mid-burst: it resumes with Last-Event-ID
    as_leader(f"/v1/judgements/{ids['p1/m4-1']}/correction", {"value": 4, "reason": "misread"})
    as_leader(f"/v1/judgements/{ids['p2/m4-2']}/withdrawal", {"reason": "wrong pupil"})
    as_leader("/v1/objectives-taught", {"class_id": "4A", "objective_ids": ["m4-1", "m4-3"],
                                        "taught_on": today.isoformat()})
    last = as_leader("/v1/pupils/p3/move", {"class_id": "4B", "moved_on": today.isoformat()})["last_sequence"]

    analysis = system.get(leader, "/v1/classes/4A/analysis", consistency=f"at_least:{last}")
    assert analysis.status_code == 200, analysis.text
    feed, after = [], 0
    while True:
        page = system.get(integration, "/v1/changes", after=str(after), limit="1000").json()
        feed += page["notices"]
        after = page["next_after"]
        if not page["more"]:
            break
    wait_until(lambda: copy.last_notice_id >= feed[-1]["notice_id"], 60, what="the consumer caught up")
    follower.stop.set()

    view = analysis.json()
    expected_heat = {row["pupil_id"]: {o: cell["value"] for o, cell in row["cells"].items()}
                     for row in view["heat_map"]}
    assert copy.heat_map() == expected_heat
    assert copy.taught_dates() == {o["objective_id"]: o["taught_dates"] for o in view["objectives"] if o["taught"]}
    assert "p3" not in expected_heat, "moved to 4B"
    assert expected_heat["p1"]["m4-1"] == 4, "the correction"
    assert follower.connections >= 2, "the consumer was cut off and resumed"
    assert {n["trust"] for n in feed} == {trust}
    saved = json.loads((tmp_path / "copy.json").read_text())
    assert saved["last_notice_id"] == copy.last_notice_id

    # The webhook (down for two attempts at first) got every notice since it was registered, in order, signed.
    wait_until(lambda: len(receiver.delivered()) >= len(feed), 60, what="every notice delivered by webhook")
    delivered = receiver.delivered()
    assert [json.loads(r.body)["notice_id"] for r in delivered] == [n["notice_id"] for n in feed]
    assert all(verify_signature(hook["secret"], r.headers[HEADER], r.body) for r in delivered)
