"""The pure read views: snapshots in, JSON-ready dicts out; no database, no Flask."""
