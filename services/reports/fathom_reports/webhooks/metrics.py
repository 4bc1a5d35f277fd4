"""What the webhook worker did, for Prometheus: attempts by outcome and how long each took, per trust.

A receiver that keeps failing shows first as ``retry`` outcomes and then as ``dead_letter`` ones; an attempt's
duration approaching ``FATHOM_WEBHOOK_TIMEOUT`` means receivers are slow, not down.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

OUTCOMES = ("delivered", "retry", "dead_letter")


class WebhookMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.attempts = Counter("fathom_webhook_attempts", "Webhook delivery attempts by outcome: delivered (2xx), "
                                "retry (failed, will be retried), dead_letter (failed for the last time)",
                                ["trust", "outcome"], registry=registry)
        self.attempt_seconds = Histogram("fathom_webhook_attempt_seconds", "One delivery attempt: resolve, connect, "
                                         "send, the answer's status", registry=registry,
                                         buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

    def attempted(self, trust_id: str, outcome: str, seconds: float) -> None:
        self.attempts.labels(trust_id, outcome).inc()
        self.attempt_seconds.observe(seconds)
