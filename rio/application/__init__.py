"""The application layer: the only code that loads and saves aggregates."""
