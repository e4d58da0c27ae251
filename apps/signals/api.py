"""Signals API: list with filters, top, latest per symbol, search."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.signals import selectors
from apps.signals.serializers import SearchFilterSerializer, SignalFilterSerializer, SignalSerializer, TopFilterSerializer
from newstunneler.api import Pagination, query_params


class SignalPagination(Pagination):
    ordering = ("-t", "-id")


@extend_schema(parameters=[SignalFilterSerializer])
class SignalListApi(generics.ListAPIView):
    serializer_class = SignalSerializer
    pagination_class = SignalPagination

    def get_queryset(self):
        return selectors.signal_list(**query_params(SignalFilterSerializer, self.request))


class SignalTopApi(APIView):
    @extend_schema(parameters=[TopFilterSerializer], responses=SignalSerializer(many=True))
    def get(self, request):
        signals = selectors.signal_top(**query_params(TopFilterSerializer, request))
        return Response(SignalSerializer(signals, many=True).data)


class SignalLatestApi(generics.ListAPIView):
    """The newest signal of every symbol, by symbol."""

    serializer_class = SignalSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.signal_latest_per_symbol()


class SignalSearchApi(APIView):
    @extend_schema(parameters=[SearchFilterSerializer], responses=SignalSerializer(many=True))
    def get(self, request):
        signals = selectors.signal_search(**query_params(SearchFilterSerializer, request))
        return Response(SignalSerializer(signals, many=True).data)
