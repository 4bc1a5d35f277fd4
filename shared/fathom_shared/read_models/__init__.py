"""The read-model definition: which rows the events make, and how they are written.

Shared by the projector (which keeps the live read models) and the reports service (which
reads them), so both use one definition and the reports service never imports the projector.
The modules, each importing only those listed before it:

- :mod:`~fathom_shared.read_models.tables` — the table specs: every read-model table's key and columns;
- :mod:`~fathom_shared.read_models.rollup` — a cell's current judgement by the trust's rollup (pure);
- :mod:`~fathom_shared.read_models.projection` — a batch being folded: stored rows in, rows out (pure);
- :mod:`~fathom_shared.read_models.fold` — what each event type does to which rows (pure);
- :mod:`~fathom_shared.read_models.parsing` — stored events upcast, validated, their needs named (pure);
- :mod:`~fathom_shared.read_models.arrays`, :mod:`~fathom_shared.read_models.notices` — SQL building blocks;
- :mod:`~fathom_shared.read_models.current` — ``rm_pupil_objective`` kept by the rollup (SQL);
- :mod:`~fathom_shared.read_models.writer` — a batch loaded, folded and written, with dead letters and
  the trust's position (SQL);
- :mod:`~fathom_shared.read_models.fill` — empty throw-away copies filled in one pass: the fold's final rows,
  one ``COPY`` per table, the current cells derived by the rollup (SQL);
- :mod:`~fathom_shared.read_models.target` — where the writer's rows go: the live tables, a schema of
  copies (the online rebuild's shadow) or temporary tables (a throw-away replay, e.g. time travel).
"""
