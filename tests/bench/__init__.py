"""Benchmarks of the whole system, run by ``make bench`` (``python -m tests.bench``).

Not part of ``make test``: they take minutes, start their own PostgreSQL, broker and
services, and write their table into README.md between ``<!-- bench:start -->`` and
``<!-- bench:end -->``.
"""
