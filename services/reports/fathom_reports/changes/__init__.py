"""The change feed: the notices the projector writes per trust, read by page (:mod:`.store`), followed as
server-sent events (:mod:`.stream`), published to per-trust topics (:mod:`.publisher`) and pruned after
their retention (:mod:`.retention`).

Imports :mod:`fathom_shared` and the freshness listener, never the HTTP routes.
"""
