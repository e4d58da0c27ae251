"""Billing API: an account's usage and limits (its own; staff may ask for any with ?account=ID), and the
account owner's own API keys (list, create, rotate, revoke)."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.billing import selectors, services
from apps.billing.models import Account, ApiKey
from newstunneler.api import id_param, query_params, reads
from newstunneler.openapi import ErrorSerializer

NO_ACCOUNT = OpenApiResponse(ErrorSerializer, description="You have no account, or no account has that id.")


class LimitsQuerySerializer(serializers.Serializer):
    account = id_param(required=False, help_text="staff only: another account's id")


class UsageQuerySerializer(LimitsQuerySerializer):
    period = serializers.RegexField(r"^(current|\d{4}-\d{2})$", required=False, default="current",
                                    error_messages={"invalid": "Use 'current' or YYYY-MM."})

    def validate_period(self, value):
        try:
            selectors.month_bounds(value)
        except ValueError:
            raise serializers.ValidationError("Use 'current' or a real month as YYYY-MM.") from None
        return value


def account_for(request, account_id: int | None) -> Account:
    if account_id is not None:
        if not request.user.is_staff:
            raise PermissionDenied("Only staff may look at another account.")
        account = Account.objects.select_related("plan").filter(pk=account_id).first()
    elif isinstance(request.auth, ApiKey):
        account = request.auth.account
    else:
        account = Account.objects.select_related("plan").filter(owner=request.user).first()
    if account is None:
        raise NotFound("No account.")
    return account


class UsageApi(APIView):
    required_permissions = reads()  # any authenticated caller: their own account

    @extend_schema(parameters=[UsageQuerySerializer], responses={200: dict, 404: NO_ACCOUNT})
    def get(self, request):
        params = query_params(UsageQuerySerializer, request)
        return Response(selectors.usage(account=account_for(request, params.get("account")),
                                        period=params.get("period", "current")))


class LimitsApi(APIView):
    required_permissions = reads()

    @extend_schema(parameters=[LimitsQuerySerializer], responses={200: dict, 404: NO_ACCOUNT})
    def get(self, request):
        params = query_params(LimitsQuerySerializer, request)
        return Response(selectors.limits(account=account_for(request, params.get("account"))))


# --- Self-service keys: an account's owner manages its keys ------------------------------------------

OWN = {method: [] for method in ("GET", "HEAD", "OPTIONS", "POST", "DELETE")}  # any role: their own account only


def owned_account(request) -> Account:
    """The caller's own account (the key's, or the one the signed-in user owns); 404 if none."""
    if isinstance(request.auth, ApiKey):
        return request.auth.account
    account = Account.objects.select_related("plan").filter(owner=request.user).order_by("id").first()
    if account is None:
        raise NotFound("You own no account: ask staff to create one (or run manage.py create_api_key --owner).")
    return account


class ApiKeySerializer(serializers.ModelSerializer):
    active = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at", "active"]
        read_only_fields = fields

    def get_active(self, key) -> bool:
        return key.revoked_at is None and (key.expires_at is None or key.expires_at > timezone.now())


class NewApiKeySerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The key itself: shown this once, only its hash is kept.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="what the key is for, e.g. 'trading bot'")
    expires_at = serializers.DateTimeField(required=False, allow_null=True, help_text="when it stops working")

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Must be in the future.")
        return value


def _new_key_answer(row: ApiKey, key: str) -> dict:
    row.key = key
    return NewApiKeySerializer(row).data


class ApiKeyListApi(APIView):
    """Your account's keys (GET), or a new one (POST: the key is in this answer only)."""

    required_permissions = OWN

    @extend_schema(responses={200: ApiKeySerializer(many=True), 404: NO_ACCOUNT})
    def get(self, request):
        keys = ApiKey.objects.filter(account=owned_account(request)).order_by("-created_at", "-id")
        return Response(ApiKeySerializer(keys, many=True).data)

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: NewApiKeySerializer, 404: NO_ACCOUNT})
    def post(self, request):
        body = ApiKeyCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row, key = services.api_key_create(account=owned_account(request), **body.validated_data)
        return Response(_new_key_answer(row, key), status=status.HTTP_201_CREATED)


def _own_key(request, pk: int) -> ApiKey:
    key = ApiKey.objects.filter(pk=pk, account=owned_account(request)).first()
    if key is None:
        raise NotFound("None of your account's keys has that id.")
    return key


class ApiKeyDetailApi(APIView):
    """DELETE revokes the key at once (it stays listed, with revoked_at)."""

    required_permissions = OWN

    @extend_schema(responses={200: ApiKeySerializer, 404: NO_ACCOUNT})
    def get(self, request, pk: int):
        return Response(ApiKeySerializer(_own_key(request, pk)).data)

    @extend_schema(responses={204: None, 404: NO_ACCOUNT})
    def delete(self, request, pk: int):
        services.api_key_revoke(key=_own_key(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiKeyRotateApi(APIView):
    """A new key with the old one's name and expiry; the old one is revoked at once. Rotating the key
    the request is made with is allowed: the answer carries its successor."""

    required_permissions = OWN

    @extend_schema(request=None, responses={201: NewApiKeySerializer, 404: NO_ACCOUNT,
                                            409: OpenApiResponse(ErrorSerializer, description="The key is revoked.")})
    def post(self, request, pk: int):
        old = _own_key(request, pk)
        if old.revoked_at is not None:
            raise Conflict("That key is revoked: create a new one instead.")
        row, key = services.api_key_rotate(key=old)
        return Response(_new_key_answer(row, key), status=status.HTTP_201_CREATED)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
