"""The PostgreSQL event store: the one door to the ``events`` log.

Callers import from here. :mod:`~fathom_shared.event_store.records` holds what is stored,
:mod:`~fathom_shared.event_store.chain` what an event's hash covers and how a run of events is
checked, :mod:`~fathom_shared.event_store.append` the one writer of ``events`` and ``trust_heads``,
:mod:`~fathom_shared.event_store.recorder` every other statement that touches them (nothing else in the code
base does) but the readers made for folding, which are in :mod:`~fathom_shared.event_store.replay`;
:mod:`~fathom_shared.event_store.wire` says how events travel on the broker; its reads of streams keep their
plan for a trust the statistics do not know yet through :mod:`fathom_shared.planning`.
``tests/integration/test_event_store_contract.py`` states what each reader promises.
"""

from fathom_shared.event_store.append import append_events, stream_versions
from fathom_shared.event_store.chain import (
    ChainLink,
    ChainReport,
    canonical_json,
    canonical_json_ascii,
    check_chain,
    content_of,
    event_hash,
    hashed_content,
    message_of,
)
from fathom_shared.event_store.recorder import (
    HEAD_SEQUENCE,
    EventFilter,
    any_matching,
    chain_links,
    data_values_present,
    event_at,
    events_matching,
    head_sequence,
    iter_events,
    iter_matching,
    read_events,
    read_streams,
    recorded_at,
    sequence_at,
    verify_chain,
)
from fathom_shared.event_store.records import (
    ConcurrencyConflict,
    NewEvent,
    StoredEvent,
    StreamKey,
    new_event_ids,
)
from fathom_shared.event_store.replay import replay_events, replay_streams
from fathom_shared.event_store.wire import event_lines, message_events, messages_of

__all__ = [
    "HEAD_SEQUENCE", "ChainLink", "ChainReport", "ConcurrencyConflict", "EventFilter", "NewEvent", "StoredEvent",
    "StreamKey",
    "any_matching", "append_events", "canonical_json", "canonical_json_ascii", "chain_links", "check_chain",
    "content_of",
    "data_values_present", "event_at", "event_hash", "event_lines", "events_matching",
    "hashed_content", "head_sequence",
    "iter_events", "iter_matching", "message_events", "message_of", "messages_of",
    "new_event_ids", "read_events", "read_streams", "recorded_at", "replay_events", "replay_streams", "sequence_at",
    "stream_versions", "verify_chain",
]
