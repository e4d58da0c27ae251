"""Dramatiq middleware of the jobs app, one module each: `ledger` (job states and the retry policy),
`db` (database connections of worker threads) and `heartbeat` (process heartbeats and the jobs a
worker is running).

django_dramatiq builds the broker while Django's apps are still loading, so these modules import
models inside their methods, never at module level."""
