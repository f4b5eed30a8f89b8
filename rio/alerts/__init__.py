"""Scheduled alerts to accountable owners: the policy, the digests, delivery and the scheduler.

Kept free of imports here so the pure policy can be imported without the mail and
scheduling machinery.
"""
