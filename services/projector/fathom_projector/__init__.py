"""The projector: turns the assessment-events topic into per-trust read models in PostgreSQL.

Public entry points: :func:`fathom_projector.service.run` (the consumer process) and
:func:`fathom_projector.rebuild.rebuild_trust` (replay one trust from the event store).
"""
