"""A fill that leaves tables out (time travel's views that read only the cells) names tables the fold fills."""

import pytest

from fathom_shared.read_models.fill import copy_rows
from fathom_shared.read_models.projection import Projection


def test_a_table_left_out_must_be_one_the_fold_fills() -> None:
    """A misspelt name would leave every table written and say nothing: it is refused before any row is sent."""
    with pytest.raises(ValueError, match=r"fills: rm_judgement$"):
        copy_rows(None, "t1", Projection(), unread=("rm_judgement",))  # type: ignore[arg-type]
