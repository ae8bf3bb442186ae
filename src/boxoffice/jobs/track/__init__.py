"""The `track` job: events from a sheet, scheduled listing snapshots, price analytics."""
