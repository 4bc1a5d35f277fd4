"""The auditors' answers from the event store: the filtered event log and its exports, a judgement's
history, chain verification (inline and as background jobs) and the record of who read what.

Imports :mod:`fathom_shared` and the reports service's shared helpers (personal texts, CSV cells), never
the HTTP routes (:mod:`fathom_reports.http.audit` imports this package, not the other way round).
"""
