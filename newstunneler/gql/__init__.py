"""graphql_api: a read-only GraphQL endpoint (strawberry-django) at /api/graphql/ over sources, articles,
signals and their outcomes. It is a DRF view, so API keys or a session, roles, metering and plan quotas
are exactly REST's; each field checks the permission its REST twin needs. Hostile documents are refused
before anything runs (newstunneler/gql/limits.py): depth, cost, aliases and tokens are bounded."""
