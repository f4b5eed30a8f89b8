"""The domain: what RIO knows about reviews, promises and time, free of any framework.

It imports only the standard library, `eventsourcing.domain` and itself. The aggregates
(`rio.aggregates`) record the domain's facts (`rio.domain.facts`) and import the domain,
never the other way round (checked by import-linter, see pyproject.toml).
"""
