"""Event-sourced aggregates: the only objects whose methods emit RIO's stored events."""
