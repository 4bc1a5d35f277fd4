"""Which reads the meeting page's head preloads (``meeting_reads``): the five the script starts, only when the
page's query names nothing but the place, with the place from the address first and the rendered defaults next."""

from __future__ import annotations

from fathom_reports.web.meeting_place import meeting_reads

PLACE = {"academic_year": "2026-27", "point_id": "autumn-2", "subject": "maths"}


def test_the_five_reads_for_a_place_named_in_the_address() -> None:
    assert meeting_reads({"class_id": "4a"}, PLACE) == (
        "/v1/classes/4a/summative?academic_year=2026-27&point_id=autumn-2&subject=maths",
        "/v1/classes/4a/falling-behind?academic_year=2026-27&point_id=autumn-2&subject=maths",
        "/v1/classes/4a/meetings/2026-27/autumn-2",
        "/v1/directory",
        "/v1/classes/4a/analysis?subject=maths&heat_map=compact",
    )


def test_the_address_wins_over_the_rendered_defaults_and_they_fill_the_rest() -> None:
    reads = meeting_reads({"class_id": "4a", **PLACE, "subject": "english"}, {"point_id": "spring-1"})
    assert reads[0] == "/v1/classes/4a/summative?academic_year=2026-27&point_id=spring-1&subject=english"


def test_encoded_as_the_script_encodes_them() -> None:
    reads = meeting_reads({"class_id": "4 b/c"}, {**PLACE, "subject": "design and technology"})
    assert reads[0] == ("/v1/classes/4%20b%2Fc/summative?academic_year=2026-27&point_id=autumn-2"
                        "&subject=design+and+technology")


def test_nothing_preloaded_when_the_query_asks_for_more_or_the_place_is_unknown() -> None:
    for extra in ("consistency", "as_of", "group", "source"):
        assert meeting_reads({"class_id": "4a"}, {**PLACE, extra: "x"}) == ()
    assert meeting_reads({"class_id": "4a"}, {"academic_year": "2026-27"}) == ()
