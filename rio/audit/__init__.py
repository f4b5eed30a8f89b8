"""Tamper evidence: the hash chain over the event log, digests, verification and export."""
