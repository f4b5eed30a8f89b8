"""RIO's HTTP API: `create_app(settings)` in rio.api.app builds it."""
