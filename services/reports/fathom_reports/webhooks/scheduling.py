"""Fair turns for webhook deliveries: round-robin across trusts, one turn at a time per subscription.

Why: deliveries block on someone else's server. Served in order, one trust's dead or slow receiver
(each attempt can take the whole deadline) would hold back every other trust's notices. Here a
small pool of workers takes subscriptions trust by trust in rotation; a subscription is never
queued twice nor delivered by two workers at once, and one trust never holds more than
``per_trust`` workers, so the others always have some.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict, deque


class FairQueue:
    def __init__(self, per_trust: int) -> None:
        self.per_trust = max(1, per_trust)
        self._condition = threading.Condition()
        self._waiting: OrderedDict[str, deque[uuid.UUID]] = OrderedDict()
        self._busy: set[uuid.UUID] = set()  # queued or being delivered
        self._running: dict[str, int] = {}
        self._closed = False

    def put(self, trust_id: str, webhook_id: uuid.UUID) -> bool:
        """Queue a turn for the subscription; False if it already has one queued or running."""
        with self._condition:
            if self._closed or webhook_id in self._busy:
                return False
            self._busy.add(webhook_id)
            self._waiting.setdefault(trust_id, deque()).append(webhook_id)
            self._condition.notify_all()
            return True

    def take(self) -> tuple[str, uuid.UUID] | None:
        """The next turn: the longest-waiting trust under its limit goes first (and then to the back)."""
        with self._condition:
            while True:
                if self._closed:
                    return None
                trust_id = next((t for t in self._waiting if self._running.get(t, 0) < self.per_trust), None)
                if trust_id is not None:
                    break
                self._condition.wait()
            queue = self._waiting.pop(trust_id)
            webhook_id = queue.popleft()
            if queue:
                self._waiting[trust_id] = queue
            self._running[trust_id] = self._running.get(trust_id, 0) + 1
            return trust_id, webhook_id

    def done(self, trust_id: str, webhook_id: uuid.UUID) -> None:
        with self._condition:
            self._busy.discard(webhook_id)
            self._running[trust_id] -= 1
            if not self._running[trust_id]:
                del self._running[trust_id]
            self._condition.notify_all()

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()
