"""Billing API: an account's usage and limits (its own; staff may ask for any with ?account=ID)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.billing import selectors
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
