"""The projector: turns the assessment-events topic into per-trust read models in PostgreSQL.

Public entry points: :func:`fathom_projector.service.run` (the consumer process) and
:func:`fathom_projector.rebuild.rebuild_trust` (replay one trust from the event store).

What the events make — the table specs, the fold and the writer — is defined in
:mod:`fathom_shared.read_models`, shared with the reports service; this package is the process
around it: the consumer loop, each trust's batch and position, the check of broker messages
against the event store, and the rebuilds (whole, or online through shadow tables).
"""
