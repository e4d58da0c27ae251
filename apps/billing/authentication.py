"""`Authorization: Api-Key <key>` for API consumers.

A key's row (with its account, owner and plan) is kept in the shared cache for KEY_CACHE_SECONDS:
loading it costs a four-table query on every API request otherwise. Any save or delete of a key, an
account, a plan or a user invalidates the entries it affects when it commits (apps/billing/apps.py),
so a revoked key, a deactivated account or user, or a plan change applies to the very next request
in every process.
"""

import hmac
import uuid
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone
from rest_framework import authentication, exceptions

from apps.billing import metering
from apps.billing.models import ApiKey
from apps.billing.services import hash_key, split_key

LAST_USED_EVERY = timedelta(minutes=1)  # at most one write per key per minute
KEY_CACHE_SECONDS = 300


def forget(prefixes) -> None:
    """Invalidate cached key rows (after a change to a key, or to its account, owner or plan has been
    committed). Each prefix has a generation token; an entry is used only while the token it was loaded
    under is still current, so a request that read the row just before the change cannot put the old
    row back for good."""
    tokens = {_cache_keys(prefix)[1]: uuid.uuid4().hex for prefix in prefixes}
    if tokens:
        cache.set_many(tokens, KEY_CACHE_SECONDS + 60)


def _cache_keys(prefix: str) -> tuple[str, str]:
    """The cache keys of a key's row and of its generation token."""
    return f"apikey:{prefix}", f"apikey-gen:{prefix}"


def _load(prefix: str, cached: tuple | None = None) -> tuple[str | None, ApiKey | None]:
    """The key's row (from the cache while its generation is current, else the database) and the
    generation it is valid under. `cached`: (entry, generation) already read from the cache by the
    caller; else they are read here, in one round trip."""
    entry_key, generation_key = _cache_keys(prefix)
    if cached is None:
        found = cache.get_many([entry_key, generation_key])
        cached = found.get(entry_key), found.get(generation_key)
    entry, generation = cached
    if entry is not None and entry[0] == generation:
        return generation, entry[1]
    rows = ApiKey.objects.select_related("account__owner", "account__plan").filter(prefix=prefix)[:1]
    row = next(iter(rows), None)  # (prefix is unique: no ORDER BY needed, unlike .first())
    if row is not None:
        cache.set(entry_key, (generation, row), KEY_CACHE_SECONDS)
    return generation, row


# Key prefix -> its account id (a key never moves to another account): with it, an API request reads its
# key's cached row and counts itself against the account's quotas in ONE Redis round trip.
_accounts: dict[str, int] = {}
_ACCOUNTS_MAX = 100_000


def _load_counting(prefix: str, now) -> tuple[str | None, ApiKey | None, tuple | None]:
    """_load, and (when the key's account is known to this process) the request counted in the same
    pipeline: (generation, row, (used this minute, used today, now) or None if not counted)."""
    account_id = _accounts.get(prefix)
    if account_id is None:
        generation, row = _load(prefix)
        if row is not None:
            if len(_accounts) >= _ACCOUNTS_MAX:
                _accounts.clear()
            _accounts[prefix] = row.account_id
        return generation, row, None
    client = cache.client
    pipe = metering._redis().pipeline(transaction=False)
    pipe.mget([client.make_key(name) for name in _cache_keys(prefix)])
    metering.count(pipe, account_id, now)
    replies = pipe.execute()
    generation, row = _load(prefix, cached=tuple(None if raw is None else client.decode(raw) for raw in replies[0]))
    if row is None or row.account_id != account_id:
        metering.uncount(account_id, now)
        _accounts.pop(prefix, None)
        return generation, row, None
    return generation, row, (*metering.usage_counts(replies[1:]), now)


def key_owner(key: str, *, count: bool = False):
    """The (owner, key row) of a presented API key; AuthenticationFailed saying why it is refused. Used
    by the API (count=True: the request is counted against the account's quotas in the round trip that
    reads the key; the throttle then only compares, apps/billing/throttles.py) and by the WebSocket
    stream (apps/signals/notify/websocket.py)."""
    key = key.strip()
    prefix = split_key(key)
    if prefix is None:
        raise exceptions.AuthenticationFailed("Malformed API key.")
    now = timezone.now()
    if count:
        generation, row, used = _load_counting(prefix, now)
    else:
        (generation, row), used = _load(prefix), None
    try:
        _check(key, row, now)
    except exceptions.AuthenticationFailed:
        if used is not None:  # counted before the key could be checked: not a request of that account
            metering.uncount(row.account_id, now)
        raise
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
        ApiKey.objects.filter(pk=row.pk).update(last_used_at=now)  # (an update: no signal, entry kept)
        row.last_used_at = now
        cache.set(_cache_keys(prefix)[0], (generation, row), KEY_CACHE_SECONDS)
    row.nt_counted = used  # for the throttle (a fresh object per request: unpickled or loaded)
    return row.account.owner, row


def _check(key: str, row: ApiKey | None, now) -> None:
    if row is None or not hmac.compare_digest(row.key_hash, hash_key(key)):
        raise exceptions.AuthenticationFailed("Invalid API key.")
    if row.revoked_at is not None:
        raise exceptions.AuthenticationFailed("This API key has been revoked.")
    if row.expires_at is not None and row.expires_at <= now:
        raise exceptions.AuthenticationFailed("This API key has expired.")
    if not row.account.active:
        raise exceptions.AuthenticationFailed("This account is inactive.")
    if not row.account.owner.is_active:
        raise exceptions.AuthenticationFailed("The account's owner is inactive.")


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, key = header.partition(" ")
        if scheme != self.keyword:
            return None
        return key_owner(key, count=True)

    def authenticate_header(self, request):
        return self.keyword
