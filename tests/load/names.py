"""The name of every request type the scenario reports, so the runner and the suite's test can find them."""

SAVE = "POST /v1/judgements (30 × 5 grid)"
TAUGHT = "POST /v1/objectives-taught"
SEE = "GET class analysis (consistency=at_least:N)"
SAVE_THEN_SEE = "teacher save-then-see"
SCHOOL = "GET school analysis"
SCHOOL_CSV = "GET school analysis CSV"
LEADER_CLASS = "GET class analysis (leader)"
TRUST = "GET trust analysis"
TRUST_CSV = "GET trust analysis CSV"
AS_OF = "GET class analysis as_of"
AUDIT_PAGE = "GET /v1/audit/events (page of 50)"
HISTORY = "GET judgement history"
CATCH_UP = "GET /v1/changes (catch up)"
STREAM = "GET /v1/changes/stream (connect)"
SSE_NOTICE = "change feed notice (notice → stream)"
WEBHOOK_REGISTER = "POST /v1/webhooks (register)"
WEBHOOK_NOTICE = "webhook delivery (notice → receiver)"

EVERY = (SAVE, TAUGHT, SEE, SAVE_THEN_SEE, SCHOOL, SCHOOL_CSV, LEADER_CLASS, TRUST, TRUST_CSV, AS_OF, AUDIT_PAGE,
         HISTORY, CATCH_UP, STREAM, SSE_NOTICE, WEBHOOK_REGISTER, WEBHOOK_NOTICE)
"""What a run must have done at least once to have exercised the whole scenario."""
