"""Every write of the billing app."""

import hashlib
import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.billing.models import Account, ApiKey

KEY_START = "nt_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def split_key(key: str) -> str | None:
    """The prefix of a well-formed key (nt_<prefix>_<secret>), else None."""
    if not key.startswith(KEY_START):
        return None
    prefix, _, secret = key[len(KEY_START):].partition("_")
    return prefix if len(prefix) == 8 and len(secret) >= 32 else None


@transaction.atomic
def api_key_create(*, account: Account, name: str, expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the key itself, which is never stored and cannot be shown again."""
    while True:
        prefix = secrets.token_hex(4)
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    key = f"{KEY_START}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey.objects.create(account=account, name=name, prefix=prefix, key_hash=hash_key(key), expires_at=expires_at)
    return row, key


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


@transaction.atomic
def api_key_rotate(*, key: ApiKey) -> tuple[ApiKey, str]:
    """Replace a key: a new one with its name and expiry, and the old one revoked (in one transaction)."""
    row, new_key = api_key_create(account=key.account, name=key.name, expires_at=key.expires_at)
    api_key_revoke(key=key)
    return row, new_key
