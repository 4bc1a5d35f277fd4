"""Class Analysis (/classes/<id>): the heat map against the API, filters, cell details by keyboard, starting an
intervention from a suggested group, refusing another school's class, and the page at tablet width."""

from __future__ import annotations

import re
from datetime import date, timedelta
from itertools import groupby
from urllib.parse import parse_qs, urlsplit

import requests
from playwright.sync_api import expect

from tests.browser.conftest import WebSystem, band_short
from tests.support import bearer

CLASS = "school-a-y4A"
OTHER_SCHOOLS_CLASS = "school-b-y4A"
ROWS = "table.heat-map tbody tr[data-pupil-id]"


def analysis(web: WebSystem, class_id: str = CLASS, token: str | None = None, **params) -> dict:
    """The same JSON the page reads, as the class's teacher (or ``token``)."""
    token = token or web.token(["teacher"], classes=[class_id])
    answer = requests.get(f"{web.url}/v1/classes/{class_id}/analysis", params=params, headers=bearer(token),
                          timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def shown_date(iso: str) -> re.Pattern:
    """formatDate's en-GB "17 Oct 2026" (ICU may spell September "Sept")."""
    day = date.fromisoformat(iso)
    return re.compile(rf"(?<!\d){day.day} {day.strftime('%b')}t? {day.year}")


def open_class(page, sign_in, query: str = "") -> None:
    sign_in(page, f"teacher:{CLASS}")
    page.goto(f"/classes/{CLASS}{query}")
    page.locator(ROWS).first.wait_for()


def row_ids(page) -> list[str]:
    return page.locator(ROWS).evaluate_all("rows => rows.map(r => r.dataset.pupilId)")


def test_a_teacher_sees_the_heat_map_of_their_class(page, web: WebSystem, sign_in, screenshot) -> None:
    view = analysis(web)
    open_class(page, sign_in)
    expect(page.locator("h1")).to_have_text("Class 4A")

    # One row per pupil, in the API's order, each named with a link to the pupil's profile.
    assert row_ids(page) == [p["pupil_id"] for p in view["pupils"]]
    assert len(view["pupils"]) == 8
    first = view["pupils"][0]
    link = page.locator(f'tr[data-pupil-id="{first["pupil_id"]}"] th[scope="row"] a')
    assert link.inner_text() == first["name"]
    assert link.get_attribute("href") == f"/pupils/{first['pupil_id']}"

    # Every cell holds the API's band (value and short label), or nothing when not assessed.
    judged = {(row["pupil_id"], objective_id): cell
              for row in view["heat_map"] for objective_id, cell in row["cells"].items()}
    cells = page.locator("td.cell").evaluate_all(
        "cells => cells.map(c => [c.dataset.pupilId, c.dataset.objectiveId, c.dataset.value, c.textContent,"
        " c.className])")
    assert len(cells) == len(view["pupils"]) * len(view["objectives"])
    for pupil_id, objective_id, value, text, classes in cells:
        cell = judged.get((pupil_id, objective_id))
        if cell is None:
            assert (value, text) == ("", ""), (pupil_id, objective_id)
        else:
            assert (value, text) == (str(cell["value"]), band_short(cell["label"])), (pupil_id, objective_id)
            assert re.search(r"\bband-\d\b", classes)
    assert sum(1 for c in cells if c[2]) == len(judged) > 0

    # Above each objective: its distribution bar with the API's counts and % secure.
    objective = max(view["objectives"], key=lambda o: o["assessed"])
    bar = page.locator(f'.column-bar[data-objective-id="{objective["objective_id"]}"]')
    assert bar.locator(".bar-secure").inner_text() == f"{objective['percent_secure']:.1f}%"
    titles = bar.locator(".bar-segment").evaluate_all("segments => segments.map(s => s.title)")
    assert [t for t in titles if not t.startswith("Not assessed")] == [
        f"{c['label']}: {c['count']}" for c in objective["counts"] if c["count"]]

    # Objectives across, grouped by subject and strand (each group's columns side by side).
    shown = page.locator("th.objective").evaluate_all("ths => ths.map(th => th.dataset.objectiveId)")
    by_id = {o["objective_id"]: o for o in view["objectives"]}
    assert sorted(shown) == sorted(by_id)
    runs = [key for key, _ in groupby(shown, key=lambda i: (by_id[i]["subject"], by_id[i]["strand"]))]
    assert len(runs) == len(set(runs))
    subjects = [t.strip() for t in page.locator(".subject-row th.group").all_text_contents()]
    assert subjects == [s.capitalize() for s, _ in groupby(by_id[i]["subject"] for i in shown)]

    # Taught but not assessed (taught, some pupils without a judgement) is marked, and explained in the key.
    flagged = page.locator("th.objective.taught-not-assessed").evaluate_all(
        "ths => ths.map(t => t.dataset.objectiveId)")
    assert sorted(flagged) == sorted(o["objective_id"] for o in view["objectives"]
                                     if o["taught"] and o["not_assessed"] > 0)
    expect(page.locator(".other-key")).to_contain_text("Taught, not yet assessed for every pupil")
    expect(page.locator(".band-key").first).to_contain_text("Secure")

    # Links to act on it, and the CSV of each table.
    expect(page.locator("#enter-judgements")).to_have_attribute("href", f"/classes/{CLASS}/entry")
    csv = page.locator("a.csv").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert {re.search(r"table=(\w+)", h).group(1) for h in csv} == {"heat_map", "objectives", "gaps",
                                                                     "suggested_groups"}
    answer = requests.get(web.url + csv[0], headers=bearer(web.token(["teacher"], classes=[CLASS])), timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    screenshot(page, "class-analysis")


def analysis_reads(page, class_id: str = CLASS) -> list:
    """Every answer to the page's reads of the class's analysis, as they arrive."""
    answers: list = []
    path = f"/v1/classes/{class_id}/analysis"
    page.on("response", lambda answer: answers.append(answer) if urlsplit(answer.url).path == path else None)
    return answers


def test_the_page_reads_the_compact_heat_map_and_shows_every_cell_of_the_full_one(page, web: WebSystem,
                                                                                  sign_in) -> None:
    full = analysis(web)
    answers = analysis_reads(page)
    open_class(page, sign_in)

    # The page asked for the compact form and was answered it: each distinct cell once, indices per pupil.
    assert answers and all(parse_qs(urlsplit(a.url).query)["heat_map"] == ["compact"] for a in answers)
    compact = answers[-1].json()["heat_map"]
    assert set(compact) == {"cells", "rows"}
    judged = {(row["pupil_id"], objective_id): cell
              for row in full["heat_map"] for objective_id, cell in row["cells"].items()}
    assert 0 < len(compact["cells"]) < len(judged)

    # What it shows is the full form's every cell: value, band and colour, or nothing when not assessed.
    shown = page.locator("td.cell").evaluate_all(
        "cells => cells.map(c => [c.dataset.pupilId, c.dataset.objectiveId, c.dataset.value, c.textContent])")
    assert len(shown) == len(full["pupils"]) * len(full["objectives"])
    for pupil_id, objective_id, value, text in shown:
        cell = judged.get((pupil_id, objective_id))
        expected = (str(cell["value"]), band_short(cell["label"])) if cell else ("", "")
        assert (value, text) == expected, (pupil_id, objective_id)
    assert sum(1 for c in shown if c[2]) == len(judged)


def test_the_filters_show_the_apis_pupils_and_objectives_and_stay_in_the_url(page, web: WebSystem, sign_in) -> None:
    everyone = len(analysis(web)["pupils"])
    group, expected = next((g, ids) for g in ("pupil_premium", "eal", "sen", "female", "male", "more_able")
                           if 0 < len(ids := [p["pupil_id"] for p in analysis(web, group=g)["pupils"]]) < everyone)
    open_class(page, sign_in)
    assert len(row_ids(page)) == everyone

    page.select_option("#filter-group", group)
    expect(page.locator(ROWS)).to_have_count(len(expected))
    assert row_ids(page) == expected
    assert f"group={group}" in page.url

    maths = [o["objective_id"] for o in analysis(web, group=group, subject="maths")["objectives"]]
    page.select_option("#filter-subject", "maths")
    expect(page.locator("th.objective")).to_have_count(len(maths))
    assert sorted(page.locator("th.objective").evaluate_all("ths => ths.map(t => t.dataset.objectiveId)")) == \
        sorted(maths)

    page.reload()  # linkable: the URL alone shows the same view
    page.locator(ROWS).first.wait_for()
    expect(page.locator("#filter-group")).to_have_value(group)
    expect(page.locator("#filter-subject")).to_have_value("maths")
    assert row_ids(page) == expected
    expect(page.locator("th.objective")).to_have_count(len(maths))


def test_keyboard_focus_on_a_cell_shows_its_details(page, web: WebSystem, sign_in) -> None:
    view = analysis(web)
    open_class(page, sign_in)
    columns = page.locator("th.objective").evaluate_all("ths => ths.map(th => th.dataset.objectiveId)")
    pupils = [p["pupil_id"] for p in view["pupils"]]
    cells = {row["pupil_id"]: row["cells"] for row in view["heat_map"]}
    # An assessed cell away from the first one, so the arrow keys have somewhere to go.
    r, c = next((r, c) for r in range(1, len(pupils)) for c in range(1, len(columns))
                if columns[c] in cells.get(pupils[r], {}))
    cell = cells[pupils[r]][columns[c]]

    # One tab stop for the whole grid: Tab from the control before it lands on a cell.
    assert page.locator("table.heat-map [tabindex='0']").count() == 1
    page.locator(".heat-panel .downloads a").last.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.matches('td.cell')")
    for _ in range(r):
        page.keyboard.press("ArrowDown")
    for _ in range(c):
        page.keyboard.press("ArrowRight")
    focused = page.locator("td.cell:focus")
    expect(focused).to_have_attribute("data-pupil-id", pupils[r])
    expect(focused).to_have_attribute("data-objective-id", columns[c])
    expect(focused).to_have_attribute("tabindex", "0")
    assert page.locator("table.heat-map [tabindex='0']").count() == 1  # the tab stop moved with the focus

    details = page.locator("#cell-details[role='tooltip']")
    expect(details).to_be_visible()
    expect(focused).to_have_attribute("aria-describedby", "cell-details")
    objective = next(o for o in view["objectives"] if o["objective_id"] == columns[c])
    expect(details).to_contain_text(view["pupils"][r]["name"])
    expect(details).to_contain_text(objective["code"])
    expect(details).to_contain_text(cell["label"])
    expect(details).to_contain_text(shown_date(cell["assessed_on"]))
    expect(details).to_contain_text("Teacher")
    expect(details).to_contain_text(re.compile(r"Note\s*(No note|.+)"))
    expect(details).not_to_contain_text("Loading")

    page.keyboard.press("Escape")
    expect(details).to_be_hidden()


def test_a_judgements_note_appears_in_the_cell_details(page, web: WebSystem, sign_in) -> None:
    # A pupil self-assessment (its own source, so the teacher views other tests compare stay as they were).
    view = analysis(web)
    pupil = view["pupils"][-1]
    objective = view["objectives"][0]
    band = objective["scale"]["bands"][-1]
    note = "Explained the method to a partner without help."
    answer = web.system.post(web.leader_token, "/v1/judgements", {"judgements": [{
        "pupil_id": pupil["pupil_id"], "objective_id": objective["objective_id"], "value": band["value"],
        "assessed_on": (date.today() - timedelta(days=1)).isoformat(), "source": "self", "note": note}]})
    assert answer.status_code == 201, answer.text
    open_class(page, sign_in, f"?source=self&consistency={answer.json()['last_sequence']}")
    expect(page.locator("#filter-source")).to_have_value("self")
    target = page.locator(f'td.cell[data-pupil-id="{pupil["pupil_id"]}"]'
                          f'[data-objective-id="{objective["objective_id"]}"]')
    expect(target).to_have_text(band_short(band["label"]))
    target.focus()
    details = page.locator("#cell-details")
    expect(details).to_contain_text(note)
    expect(details).to_contain_text("Pupil self-assessment")


def test_starting_an_intervention_from_a_suggested_group(page, web: WebSystem, sign_in) -> None:
    group = analysis(web)["suggested_groups"][0]
    draft = group["start_intervention"]
    assert len(draft["pupil_ids"]) >= 2
    open_class(page, sign_in)
    card = page.locator(".group-card").first
    card.get_by_role("button", name="Start intervention").click()
    dialog = page.locator("dialog.start-dialog")
    expect(dialog).to_be_visible()

    # Prefilled: a name from the objectives, the signed-in person as lead, today; the group's pupils and objectives.
    codes = [o["code"] for o in group["objectives"]]
    assert all(code in page.locator("#iv-name").input_value() for code in codes)
    expect(page.locator("#iv-lead")).to_have_value(page.locator(".who-name").inner_text().strip())
    expect(page.locator("#iv-start")).to_have_value(date.today().isoformat())
    assert dialog.locator(".chooser li").evaluate_all("items => items.map(i => i.dataset.id)") == \
        draft["objective_ids"] + draft["pupil_ids"]

    # The API's field errors show next to the field.
    page.fill("#iv-name", "")
    dialog.get_by_role("button", name="Start intervention").click()
    expect(page.locator("#iv-name-error")).to_be_visible()
    expect(page.locator("#iv-name")).to_have_attribute("aria-invalid", "true")
    expect(dialog.locator(".form-problem")).to_contain_text("Invalid")

    # Remove one pupil, name it, start it.
    left_out = draft["pupil_ids"][-1]
    dialog.locator(f'li[data-id="{left_out}"] button').click()
    expect(dialog.locator(f'li[data-id="{left_out}"]')).to_have_class(re.compile(r"\bremoved\b"))
    page.fill("#iv-name", "Browser test catch-up")
    dialog.get_by_role("button", name="Start intervention").click()
    link = card.locator("a.started-link")
    expect(link).to_be_visible()
    expect(dialog).to_have_count(0)
    match = re.fullmatch(r"/interventions/([^?]+)\?consistency=(\d+)", link.get_attribute("href"))
    assert match, link.get_attribute("href")

    answer = requests.get(f"{web.url}/v1/interventions/{match.group(1)}", headers=bearer(web.leader_token),
                          params={"consistency": f"at_least:{match.group(2)}"}, timeout=60)
    assert answer.status_code == 200, answer.text
    impact = answer.json()
    assert impact["intervention"]["name"] == "Browser test catch-up"
    assert impact["intervention"]["start_date"] == date.today().isoformat()
    assert sorted(p["pupil_id"] for p in impact["pupils"]) == sorted(draft["pupil_ids"][:-1])
    assert sorted(o["objective_id"] for o in impact["objectives"]) == sorted(draft["objective_ids"])


def test_another_schools_class_is_refused(page, web: WebSystem, sign_in) -> None:
    teacher = web.token(["teacher"], classes=[CLASS])
    refused = requests.get(f"{web.url}/v1/classes/{OTHER_SCHOOLS_CLASS}/analysis", headers=bearer(teacher), timeout=30)
    assert refused.status_code == 403
    theirs = analysis(web, OTHER_SCHOOLS_CLASS, token=web.leader_token)

    sign_in(page, f"teacher:{CLASS}")
    page.goto(f"/classes/{OTHER_SCHOOLS_CLASS}")
    expect(page.locator(".refusal h2")).to_have_text("This class is not one of yours")
    expect(page.locator("#status")).to_contain_text("This class is not one of yours")
    assert page.locator("table.heat-map").count() == 0
    assert page.locator("#enter-judgements").count() == 0
    html = page.content()
    for pupil in theirs["pupils"]:
        assert pupil["pupil_id"] not in html and pupil["name"] not in html


def test_viewing_the_past_shows_a_banner_and_no_entry(page, web: WebSystem, sign_in) -> None:
    open_class(page, sign_in, f"?as_of={web.demo.last_sequence}")
    expect(page.locator(".as-of-banner")).to_contain_text("Viewing the past")
    assert page.locator("#enter-judgements").count() == 0
    expect(page.locator(".group-card button").first).to_be_disabled()


def test_at_tablet_width_only_the_heat_map_scrolls_sideways(page, web: WebSystem, sign_in, screenshot) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    open_class(page, sign_in)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    scroller = page.locator(".heat-scroll")
    assert scroller.evaluate("box => box.scrollWidth > box.clientWidth")
    # Scrolled across, the pupils' names stay pinned at the left and the header rows at the top.
    scroller.evaluate("box => { box.scrollLeft = 400; box.scrollTop = 60; }")
    left = scroller.evaluate("box => box.getBoundingClientRect().left + box.clientLeft")
    top = scroller.evaluate("box => box.getBoundingClientRect().top + box.clientTop")
    expect(page.locator("tbody th.pupil").first).to_be_visible()
    assert abs(page.locator("tbody th.pupil").first.bounding_box()["x"] - left) < 2
    assert abs(page.locator("table.heat-map thead .corner").bounding_box()["y"] - top) < 2
    scroller.evaluate("box => { box.scrollLeft = 0; box.scrollTop = 0; }")
    screenshot(page, "class-analysis-tablet")
