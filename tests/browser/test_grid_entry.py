"""Grid entry (/classes/<id>/entry): a teacher enters a strand by keyboard, fills, undoes, saves one batch."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import requests
from playwright.sync_api import expect

from tests.browser.conftest import WebSystem
from tests.support import bearer

CLASS = "school-a-y4A"
TEACHER = f"teacher:{CLASS}"
JUDGEMENTS = "/api/v1/judgements"


def london_today() -> date:
    return datetime.now(ZoneInfo("Europe/London")).date()


def analysis(web: WebSystem, sequence: int | None = None, class_id: str = CLASS) -> dict:
    params = {"consistency": f"at_least:{sequence}"} if sequence else {}
    answer = requests.get(f"{web.url}/v1/classes/{class_id}/analysis", params=params, timeout=60,
                          headers=bearer(web.token(["teacher"], classes=[class_id])))
    assert answer.status_code == 200, answer.text
    return answer.json()


def current_values(view: dict) -> dict[tuple[str, str], int]:
    return {(row["pupil_id"], objective_id): cell["value"]
            for row in view["heat_map"] for objective_id, cell in row["cells"].items()}


def open_entry(page, sign_in, subject: str, strand: str, class_id: str = CLASS) -> tuple[list[str], list[str]]:
    """Sign in as the class's teacher, open the grid on ``subject``/``strand``: (pupil ids, objective ids) shown."""
    sign_in(page, f"teacher:{class_id}")
    page.goto(f"/classes/{class_id}/entry")
    page.locator("td.entry-cell").first.wait_for()
    page.select_option("#entry-subject", subject)
    page.select_option("#entry-strand", strand)
    expect(page.locator("#entry-grid")).to_have_attribute("aria-label", re.compile(f"{subject}, {strand}$"))
    pupils = page.locator("#entry-grid tbody tr").evaluate_all("rows => rows.map(r => r.dataset.pupilId)")
    objectives = page.locator("th.entry-col").evaluate_all("ths => ths.map(th => th.dataset.objectiveId)")
    return pupils, objectives


def cell(page, pupil_id: str, objective_id: str):
    return page.locator(f'td.entry-cell[data-pupil-id="{pupil_id}"][data-objective-id="{objective_id}"]')


def judgement_posts(page) -> list:
    posts: list = []
    page.on("request", lambda request: posts.append(request)
            if request.method == "POST" and request.url.endswith(JUDGEMENTS) else None)
    return posts


def test_a_teacher_enters_a_strand_by_keyboard_fills_a_column_undoes_and_saves_once(
        page, web: WebSystem, sign_in, screenshot) -> None:
    pupils, objectives = open_entry(page, sign_in, "maths", "geometry")
    assert len(pupils) == 8 and len(objectives) == 5
    before = analysis(web)
    posts = judgement_posts(page)

    # Keyboard only from here: Tab into the grid (one tab stop), then type bands down each column; typing
    # at the last pupil moves on to the top of the next objective.
    page.focus("#entry-strand")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('td.entry-cell')"):
            break
    assert page.evaluate("[document.activeElement.dataset.r, document.activeElement.dataset.c]") == ["0", "0"]
    letters = {1: "e", 2: "d", 3: "s", 4: "m"}  # the first letter of the band's label works as well as its value
    expected: dict[tuple[str, str], int] = {}
    keys = ""
    for c, objective_id in enumerate(objectives[:4]):
        for r, pupil_id in enumerate(pupils):
            value = (r + 2 * c) % 4 + 1
            expected[(pupil_id, objective_id)] = value
            keys += letters[value] if c % 2 else str(value)
    page.keyboard.type(keys)
    assert page.evaluate("[document.activeElement.dataset.r, document.activeElement.dataset.c]") == ["0", "4"]

    # The last objective: select its column (Ctrl+Space) and fill it with Secure (Alt+3).
    page.keyboard.press("Control+Space")
    expect(page.locator(f'th.entry-col[data-objective-id="{objectives[4]}"]')).to_have_class(re.compile("selected"))
    page.keyboard.press("Alt+3")
    expect(page.locator("#status")).to_contain_text("Filled 8 cells with Secure")
    page.keyboard.press("Escape")
    for pupil_id in pupils:
        expected[(pupil_id, objectives[4])] = 3
    expect(page.locator("#entry-pending-count")).to_have_text("40 unsaved changes")

    # Pending values are shown bold with a "•" marker; the current band stays visible beside it.
    first = cell(page, pupils[0], objectives[4])
    expect(first).to_have_attribute("data-pending", "3")
    expect(first.locator(".pending .marker")).to_have_text("•")

    # A slip, then Ctrl+Z: the cell is back to the filled value. Delete clears; Ctrl+Z brings it back too.
    page.keyboard.type("1")
    expect(first).to_have_attribute("data-pending", "1")
    page.keyboard.press("Control+z")
    expect(first).to_have_attribute("data-pending", "3")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Delete")
    expect(first).not_to_have_attribute("data-pending", re.compile(".*"))
    expect(page.locator("#entry-pending-count")).to_have_text("39 unsaved changes")
    page.keyboard.press("Control+z")
    expect(first).to_have_attribute("data-pending", "3")
    expect(page.locator("#entry-pending-count")).to_have_text("40 unsaved changes")
    for (pupil_id, objective_id), value in expected.items():
        assert cell(page, pupil_id, objective_id).get_attribute("data-pending") == str(value)
    screenshot(page, "grid-entry")

    # One Save (Ctrl+S, still from the grid), one request: the whole batch with an idempotency key.
    with page.expect_response(lambda response: response.url.endswith(JUDGEMENTS)) as answered:
        page.keyboard.press("Control+s")
    assert answered.value.status == 201, answered.value.text()
    sequence = answered.value.json()["last_sequence"]
    saved = page.locator("#entry-saved")
    expect(saved.locator("h2")).to_have_text("Saved 40 judgements")
    assert len(posts) == 1
    body = json.loads(posts[0].post_data)
    assert posts[0].headers.get("idempotency-key")
    assert {(j["pupil_id"], j["objective_id"]): j["value"] for j in body["judgements"]} == expected
    assert {(j["assessed_on"], j["source"]) for j in body["judgements"]} == {(london_today().isoformat(), "teacher")}
    rows = saved.locator("tbody tr").evaluate_all(
        "trs => trs.map(tr => [tr.dataset.pupilId, tr.dataset.objectiveId, Number(tr.dataset.value)])")
    assert {(p, o): v for p, o, v in rows} == expected and len(rows) == 40
    expect(page.locator("#entry-pending-count")).to_have_text("No unsaved changes")
    expect(cell(page, pupils[0], objectives[4])).to_have_attribute("data-current", "3")
    screenshot(page, "grid-entry-saved")

    # The read API has them…
    after = analysis(web, sequence)
    now = current_values(after)
    assert {key: now.get(key) for key in expected} == expected
    unchanged = {k: v for k, v in current_values(before).items() if k[1] not in objectives}
    assert {k: now.get(k) for k in unchanged} == unchanged

    # …and so does the Class Analysis, reached by the link that waits for this save.
    link = page.locator("#entry-analysis-link")
    expect(link).to_have_attribute("href", f"/classes/{CLASS}?consistency={sequence}")
    link.click()
    page.wait_for_url(re.compile(rf"/classes/{CLASS}\?consistency={sequence}$"))
    heat_cells = page.locator("table.heat-map td.cell")
    heat_cells.first.wait_for()
    shown = heat_cells.evaluate_all(
        "tds => tds.map(td => [td.dataset.pupilId, td.dataset.objectiveId, td.dataset.value])")
    shown_values = {(p, o): v for p, o, v in shown}
    assert {key: shown_values.get(key) for key in expected} == {key: str(v) for key, v in expected.items()}
    filled = next(o for o in after["objectives"] if o["objective_id"] == objectives[4])
    assert filled["counts"] and sum(c["count"] for c in filled["counts"] if c["value"] == 3) == 8
    bar = page.locator(f'.column-bar[data-objective-id="{objectives[4]}"]')
    expect(bar.locator(".bar-secure")).to_contain_text(re.compile(r"^\s*[\d.]+%"))
    assert float(bar.locator(".bar-secure").inner_text().strip().rstrip("*").rstrip("%")) == filled["percent_secure"]
    titles = bar.locator(".bar-segment").evaluate_all("els => els.map(e => e.title)")
    assert {f"{c['label']}: {c['count']}" for c in filled["counts"] if c["count"]} <= set(titles)
    assert "Secure: 8" in titles


def test_the_grid_reads_the_compact_heat_map_and_shows_each_pupils_current_band(page, web: WebSystem,
                                                                               sign_in) -> None:
    path = f"/v1/classes/{CLASS}/analysis"
    reads: list = []
    page.on("request", lambda request: reads.append(request.url) if urlsplit(request.url).path == path else None)
    pupils, objectives = open_entry(page, sign_in, "maths", "geometry")
    assert reads and all(parse_qs(urlsplit(url).query)["heat_map"] == ["compact"] for url in reads)
    values = current_values(analysis(web))
    shown = {(pupil_id, objective_id): cell(page, pupil_id, objective_id).get_attribute("data-current")
             for pupil_id in pupils for objective_id in objectives}
    assert shown == {key: str(values[key]) if key in values else "" for key in shown}
    assert any(shown.values())


def test_per_item_errors_from_the_api_are_shown_on_their_cells_and_nothing_is_saved(
        page, web: WebSystem, sign_in, screenshot) -> None:
    pupils, objectives = open_entry(page, sign_in, "maths", "statistics")
    before = analysis(web)
    posts = judgement_posts(page)
    # Three cells: two by filling a column for two pupils (tick one, shift-click another), one typed.
    page.locator(f'th.entry-col[data-objective-id="{objectives[0]}"] label').click()
    page.locator(f'input.row-select[data-pupil-id="{pupils[1]}"]').click()
    page.locator(f'input.row-select[data-pupil-id="{pupils[2]}"]').click(modifiers=["Shift"])
    expect(page.locator("#entry-selection")).to_contain_text("(2 cells)")
    page.select_option("#entry-fill-value", "2")
    page.click("#entry-fill")
    cell(page, pupils[5], objectives[2]).click()
    page.keyboard.type("4")
    chosen = {(pupils[1], objectives[0]): 2, (pupils[2], objectives[0]): 2, (pupils[5], objectives[2]): 4}
    expect(page.locator("#entry-pending-count")).to_have_text("3 unsaved changes")
    # A date the UI lets through but the API refuses for every item: the future.
    tomorrow = london_today() + timedelta(days=1)
    page.fill("#entry-date", tomorrow.isoformat())
    with page.expect_response(lambda response: response.url.endswith(JUDGEMENTS)) as answered:
        page.click("#entry-save")
    assert answered.value.status == 422
    problem = answered.value.json()
    assert set(problem["errors"]) == {f"judgements.{i}.assessed_on" for i in range(3)}

    problems = page.locator("#entry-problems li")
    expect(problems).to_have_count(3)
    invalid = page.locator('td.entry-cell[aria-invalid="true"]').evaluate_all(
        "tds => tds.map(td => [td.dataset.pupilId, td.dataset.objectiveId])")
    assert {tuple(pair) for pair in invalid} == set(chosen)
    for (pupil_id, objective_id), value in chosen.items():
        target = cell(page, pupil_id, objective_id)
        expect(target).to_have_attribute("title", re.compile("Must not be in the future"))
        expect(target).to_have_attribute("data-pending", str(value))  # kept, to fix and save again
        expect(page.locator(f'#entry-problems li[data-pupil-id="{pupil_id}"][data-objective-id="{objective_id}"]')
               ).to_contain_text("Date: Must not be in the future")
    expect(page.locator("#entry-pending-count")).to_have_text("3 unsaved changes")
    expect(page.locator("#status")).to_contain_text("Nothing was saved")
    screenshot(page, "grid-entry-errors")
    assert current_values(analysis(web)) == current_values(before)  # all or nothing: nothing

    # Leaving with unsaved changes asks first; staying keeps them.
    dialogs: list[str] = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.click(f'#entry-filters a[href="/classes/{CLASS}"]')
    expect(page.locator("#entry-pending-count")).to_have_text("3 unsaved changes")
    assert dialogs == ["beforeunload"] and page.url.endswith(f"/classes/{CLASS}/entry")

    # Fixing the date clears the marks; the same changes save.
    page.fill("#entry-date", london_today().isoformat())
    expect(page.locator('td.entry-cell[aria-invalid="true"]')).to_have_count(0)
    expect(page.locator("#entry-problems")).to_be_hidden()
    with page.expect_response(lambda response: response.url.endswith(JUDGEMENTS)) as answered:
        page.click("#entry-save")
    assert answered.value.status == 201
    expect(page.locator("#entry-saved h2")).to_have_text("Saved 3 judgements")
    assert len(posts) == 2 and posts[0].headers["idempotency-key"] != posts[1].headers["idempotency-key"]
    now = current_values(analysis(web, answered.value.json()["last_sequence"]))
    assert {key: now.get(key) for key in chosen} == chosen


def test_a_save_whose_answer_is_lost_is_retried_with_the_same_key(page, web: WebSystem, sign_in) -> None:
    pupils, objectives = open_entry(page, sign_in, "maths", "fractions")
    posts = judgement_posts(page)
    dropped: list[str] = []

    def drop_first(route) -> None:
        if not dropped:
            dropped.append(route.request.headers["idempotency-key"])
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(f"**{JUDGEMENTS}", drop_first)
    cell(page, pupils[0], objectives[1]).click()
    page.keyboard.type("3")
    page.click("#entry-save")
    expect(page.locator("#status")).to_contain_text("the connection failed")
    expect(page.locator("#entry-pending-count")).to_have_text("1 unsaved change")
    with page.expect_response(lambda response: response.url.endswith(JUDGEMENTS)) as answered:
        page.click("#entry-save")
    assert answered.value.status == 201
    assert [post.headers["idempotency-key"] for post in posts] == dropped * 2
    expect(page.locator("#entry-saved h2")).to_have_text("Saved 1 judgement")


def test_a_refused_save_without_field_errors_says_why_and_nothing_else(page, web: WebSystem, sign_in) -> None:
    """A problem with no per-field errors is its title and detail only. showProblem once printed a stray "null"
    after the detail here (replaceChildren prints an absent part), which this page patched away afterwards."""
    pupils, objectives = open_entry(page, sign_in, "maths", "fractions")
    conflict = {"type": "about:blank", "title": "Conflict", "status": 409, "detail": "The class changed meanwhile."}
    page.route(f"**{JUDGEMENTS}", lambda route: route.fulfill(
        status=409, content_type="application/problem+json", body=json.dumps(conflict)))
    cell(page, pupils[0], objectives[1]).click()
    page.keyboard.type("3")
    page.click("#entry-save")
    status = page.locator("#status")
    expect(status).to_have_class(re.compile("status-error"))
    expect(status).to_have_text("Conflict The class changed meanwhile. All your changes are kept.")
    assert "null" not in status.inner_text()
    assert status.locator("ul").count() == 0
    expect(page.locator("#entry-pending-count")).to_have_text("1 unsaved change")


def test_marking_two_objectives_taught(page, web: WebSystem, sign_in, screenshot) -> None:
    before = analysis(web)
    untaught = [o["objective_id"] for o in before["objectives"] if not o["taught"]
                and (o["year_group"], o["subject"], o["strand"]) == (4, "maths", "measurement")]
    assert len(untaught) >= 2
    _, objectives = open_entry(page, sign_in, "maths", "measurement")
    chosen = untaught[:2]
    for objective_id in chosen:
        header = page.locator(f'th.entry-col[data-objective-id="{objective_id}"]')
        expect(header).to_have_attribute("data-taught", "false")
        header.locator("input.col-select").check()
    expect(page.locator("#entry-mark-taught")).to_have_text("Mark 2 as taught")
    with page.expect_response(lambda response: response.url.endswith("/api/v1/objectives-taught")) as answered:
        page.click("#entry-mark-taught")
    assert answered.value.status == 201, answered.value.text()
    assert json.loads(answered.value.request.post_data) == {"class_id": CLASS, "objective_ids": chosen,
                                                            "taught_on": london_today().isoformat()}
    result = page.locator("#entry-taught-result")
    expect(result).to_contain_text("Marked 2 objectives as taught")
    for objective_id in chosen:
        header = page.locator(f'th.entry-col[data-objective-id="{objective_id}"]')
        expect(header).to_have_attribute("data-taught", "true")
    screenshot(page, "grid-entry-taught")
    after = {o["objective_id"]: o for o in analysis(web, answered.value.json()["last_sequence"])["objectives"]}
    was = {o["objective_id"]: o for o in before["objectives"]}
    for objective_id in objectives:
        if objective_id in chosen:
            assert after[objective_id]["taught"] is True
            assert london_today().isoformat() in after[objective_id]["taught_dates"]
        else:
            assert after[objective_id]["taught_dates"] == was[objective_id]["taught_dates"]


def test_another_teachers_class_is_refused(page, web: WebSystem, sign_in) -> None:
    sign_in(page, TEACHER)
    page.goto("/classes/school-b-y3A/entry")
    refused = page.locator('.refusal[data-status="403"]')
    expect(refused.locator("h2")).to_contain_text("403")
    expect(refused).to_contain_text("not one of yours")
    assert page.locator("td.entry-cell").count() == 0


def source_options(page) -> list[str]:
    return page.locator("#entry-source option").evaluate_all("options => options.map(o => o.value)")


def test_the_source_menu_offers_only_what_the_signed_in_person_may_record(page, web: WebSystem, sign_in) -> None:
    """A teacher is not offered "moderator" (the API refuses it on every cell); their school's leader is.
    Before, the menu offered all three sources to everyone."""
    sign_in(page, TEACHER)
    page.goto(f"/classes/{CLASS}/entry")
    page.locator("td.entry-cell").first.wait_for()
    assert source_options(page) == ["teacher", "self"]

    sign_in(page, "school_leader:school-a")
    page.goto(f"/classes/{CLASS}/entry")
    page.locator("td.entry-cell").first.wait_for()
    assert source_options(page) == ["teacher", "self", "moderator"]


def test_the_corner_box_ticks_every_pupil_and_a_new_source_reloads_the_grid_keeping_changes(
        page, web: WebSystem, sign_in) -> None:
    """The corner box and the source menu reach the selection and saving's errors through what the page
    connects at start-up (the grid and the filters do not import them): both work, and the grid drawn again
    for the new source keeps the selection and the unsaved value."""
    pupils, objectives = open_entry(page, sign_in, "maths", "fractions")
    page.click("#entry-select-all")
    expect(page.locator("input.row-select:checked")).to_have_count(len(pupils))
    expect(page.locator("#entry-selection")).to_contain_text(f"× {len(pupils)} pupils")
    cell(page, pupils[0], objectives[1]).click()
    page.keyboard.type("3")
    expect(page.locator("#entry-pending-count")).to_have_text("1 unsaved change")
    page.eval_on_selector("#entry-grid", "grid => { grid.dataset.drawnBefore = 'yes'; }")
    with page.expect_response(lambda response: "/analysis?" in response.url and "source=self" in response.url
                              ) as answered:
        page.select_option("#entry-source", "self")
    assert answered.value.status == 200
    expect(page.locator("#entry-grid[data-drawn-before]")).to_have_count(0)  # drawn again
    expect(page.locator("#entry-select-all")).to_be_checked()
    expect(cell(page, pupils[0], objectives[1])).to_have_attribute("data-pending", "3")
    expect(page.locator("#entry-pending-count")).to_have_text("1 unsaved change")
