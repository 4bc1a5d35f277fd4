"""Bulk imports from CSV: framework objectives, standardised scores and OneRoster rosters.

Every import validates the whole file first and writes nothing until it is clean; errors
are keyed ``<file>.<line>.<column>`` with line numbers as in the file (header = line 1).
A dry run validates and reports what would change. Re-importing the same file changes
nothing: rows already present with the same values are counted as unchanged.
"""
