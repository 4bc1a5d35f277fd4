"""Where a view's loader reads: the read models as they are now, or as they stood at a past moment.

A handler's loader checks access, then tells its :class:`ReadModels` what the view covers (a class, a
pupil, an intervention, a year group) and runs its SQL loader on :attr:`ReadModels.connection`. Now, the
projector's tables already hold everything, so telling is a no-op. In the past
(:class:`fathom_reports.loading.time_travel.PastReadModels`) it replays the streams that view needs into
scratch tables shaped like the read models, which the same SQL then reads. So a view has one loader for
the present and the past, and a handler never asks which one it is serving.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date

from sqlalchemy import Connection

from fathom_reports.views.values import Intervention

ReadablePupils = Callable[[Collection[str]], Collection[str]]
"""Of these pupils, the ones the caller may read now (a teacher's past view holds only their pupils of today)."""
VisibleMembers = Callable[[Intervention], Collection[str]]
"""The intervention's pupils the caller may see (raises when none are)."""


class ReadModels:
    """The live read models: every ``prepare_*`` is a no-op, the projector keeps the tables current."""

    today: date | None = None
    """The day the view is seen on, when it is not the wall clock's (a past moment's school day)."""
    live = True
    """The tables are the projector's own, so what it keeps beside them (e.g. class counts) may be read."""

    def __init__(self, connection: Connection, trust_id: str) -> None:
        self.connection, self.trust_id = connection, trust_id

    def prepare_class(self, class_id: str, readable: ReadablePupils | None = None, judgements: bool = True) -> None:
        """The class, its pupils (only those ``readable``), the framework, settings and interventions; each of the
        pupils' judgements too unless ``judgements`` is false (the view reads only their current cells)."""

    def prepare_pupil(self, pupil_id: str) -> None:
        """The pupil, the classes they were in, the framework, settings and interventions."""

    def prepare_intervention(self, intervention_id: str, visible: VisibleMembers | None = None) -> None:
        """The intervention and its pupils (only those ``visible``, decided from the intervention alone)."""

    def prepare_year_group(self, year_group: int, school_id: str | None = None, judgements: bool = True) -> None:
        """The schools and classes, and the pupils of the year group's classes (of one school, or all); each of the
        pupils' judgements too unless ``judgements`` is false (the view reads only their current cells)."""
