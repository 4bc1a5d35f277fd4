"""The relay process: publishes committed events from the event store to Kafka (:mod:`fathom_relay.relay`)."""
