"""Flags API for staff: list, set, toggle. Throttled (NT_FLAGS_API_RATE)."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.flags import selectors, services
from apps.flags.registry import FLAGS
from apps.flags.serializers import FlagStateSerializer, FlagUpdateSerializer


class FlagApi(APIView):
    permission_classes = [permissions.IsAdminUser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "flags"

    def known(self, name: str) -> str:
        if name not in FLAGS:
            raise NotFound(f"no flag named {name!r}")
        return name


class FlagListApi(FlagApi):
    @extend_schema(responses=FlagStateSerializer(many=True))
    def get(self, request):
        return Response(selectors.flag_states(request=request))


class FlagDetailApi(FlagApi):
    @extend_schema(responses=FlagStateSerializer)
    def get(self, request, name):
        return Response(selectors.flag_state(self.known(name), request=request))

    @extend_schema(request=FlagUpdateSerializer, responses=FlagStateSerializer)
    def patch(self, request, name):
        name = self.known(name)
        body = FlagUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.flag_set(name=name, enabled=body.validated_data["enabled"], user=request.user, source="api")
        return Response(selectors.flag_state(name, request=request))


class FlagToggleApi(FlagApi):
    @extend_schema(request=None, responses=FlagStateSerializer)
    def post(self, request, name):
        name = self.known(name)
        services.flag_toggle(name=name, user=request.user, source="api")
        return Response(selectors.flag_state(name, request=request))
