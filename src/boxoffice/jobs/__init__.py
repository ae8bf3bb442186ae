"""Job orchestration: one package per job (watch, book, sync, track)."""
