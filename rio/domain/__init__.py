"""The domain: what RIO knows about reviews, promises and time, free of any framework.

Aggregates live beside it in `rio.aggregates`; both import only the standard library,
`eventsourcing.domain` and each other (checked by import-linter, see pyproject.toml).
"""
