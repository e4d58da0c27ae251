"""Signals API: list with filters, top, latest per symbol, search."""

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from apps import flags
from apps.signals import selectors
from apps.signals.serializers import SearchFilterSerializer, SignalFilterSerializer, SignalSerializer, TopFilterSerializer
from newstunneler.api import Pagination, query_params, reads

VIEW_SIGNALS = reads("signals.view_signal")


class SignalPagination(Pagination):
    ordering = ("-t", "-id")


@extend_schema(parameters=[SignalFilterSerializer])
class SignalListApi(generics.ListAPIView):
    required_permissions = VIEW_SIGNALS
    serializer_class = SignalSerializer
    pagination_class = SignalPagination

    def get_queryset(self):
        return selectors.signal_list(**query_params(SignalFilterSerializer, self.request))


def hot(request, key: str, compute):
    """Serve a hot read from the shared cache for NT_HOT_CACHE_SECONDS while redis_caching is on.
    The preview flag changes the body, so it is part of the key."""
    if not flags.is_enabled("redis_caching"):
        return compute()
    variant = "x" if flags.is_enabled("signal_explanations", request=request) else "-"
    return cache.get_or_set(f"hot:{key}:{variant}", compute, timeout=settings.HOT_CACHE_SECONDS)


class SignalTopApi(APIView):
    required_permissions = VIEW_SIGNALS

    @extend_schema(parameters=[TopFilterSerializer], responses=SignalSerializer(many=True))
    def get(self, request):
        params = query_params(TopFilterSerializer, request)
        context = {"request": request}
        return Response(hot(request, f"signals-top:{params['hours']}:{params['limit']}",
                            lambda: SignalSerializer(selectors.signal_top(**params), many=True, context=context).data))


class SignalLatestApi(APIView):
    """The newest signal of every symbol, by symbol."""

    required_permissions = VIEW_SIGNALS

    @extend_schema(responses=SignalSerializer(many=True))
    def get(self, request):
        context = {"request": request}
        return Response(hot(request, "signals-latest", lambda: SignalSerializer(
            selectors.signal_latest_per_symbol(), many=True, context=context).data))


class SignalSearchApi(APIView):
    required_permissions = VIEW_SIGNALS

    @extend_schema(parameters=[SearchFilterSerializer], responses=SignalSerializer(many=True))
    def get(self, request):
        signals = selectors.signal_search(**query_params(SearchFilterSerializer, request))
        return Response(SignalSerializer(signals, many=True, context={"request": request}).data)
