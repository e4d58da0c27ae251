"""`Authorization: Api-Key <key>` for API consumers."""

import hmac
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from apps.billing.models import ApiKey
from apps.billing.services import hash_key, split_key

LAST_USED_EVERY = timedelta(minutes=1)  # at most one write per key per minute


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, key = header.partition(" ")
        if scheme != self.keyword:
            return None
        key = key.strip()
        prefix = split_key(key)
        if prefix is None:
            raise exceptions.AuthenticationFailed("Malformed API key.")
        row = ApiKey.objects.select_related("account__owner", "account__plan").filter(prefix=prefix).first()
        if row is None or not hmac.compare_digest(row.key_hash, hash_key(key)):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        now = timezone.now()
        if row.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        if row.expires_at is not None and row.expires_at <= now:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if not row.account.active:
            raise exceptions.AuthenticationFailed("This account is inactive.")
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
            ApiKey.objects.filter(pk=row.pk).update(last_used_at=now)
        return row.account.owner, row

    def authenticate_header(self, request):
        return self.keyword
