"""Read models built from the event store: rebuildable, never the record itself."""
