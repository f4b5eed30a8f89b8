"""Persistence: the event store recorders with their hash chain, the database URL, locks
and transcodings. Nothing here knows about recommendations or HTTP."""
