"""The chain verification process: it runs the verification jobs auditors start
(``POST /v1/audit/verifications``).

A process of its own (``python -m fathom_verifier``) so a long verification never holds a request worker of
the reports service. The verification itself lives with the audit code (:mod:`fathom_reports.audit`);
this package only runs it.
"""
