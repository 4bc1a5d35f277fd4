"""The change-feed delivery process: per-trust change topics, signed webhooks and notice retention.

A process of its own (``python -m fathom_delivery``), apart from the reports service that serves the feed:
its loops hold broker and HTTP connections for as long as it runs. The work itself lives with the feed
(:mod:`fathom_reports.changes`, :mod:`fathom_reports.webhooks`); this package only runs it.
"""
