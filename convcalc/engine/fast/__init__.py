"""The engine's fast path: plans memoised per call shape (``plans``) and the runs on them (``run``)."""
