"""Signed webhooks of change notices: subscriptions (:mod:`.store`), which destinations are allowed
(:mod:`.destinations`), sealed secrets (:mod:`.secrets`), signatures (:mod:`.signing`), fair scheduling
(:mod:`.scheduling`), the pinned HTTP transport (:mod:`.transport`) and the delivery worker (:mod:`.delivering`).

Imports :mod:`fathom_shared` and :mod:`fathom_reports.changes`, never the HTTP routes.
"""
