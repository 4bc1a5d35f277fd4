"""Code both sides of Fathom need: events, the event store, auth, tenancy, configuration."""
