from tests.jobs import actors  # noqa: F401  (declares the actors the jobs tests use)
