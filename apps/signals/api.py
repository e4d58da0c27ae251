"""Signals API: list with filters, top, latest per symbol, search; digest subscriptions; the live alert stream."""

import json
import time

from django.conf import settings
from django.core.cache import cache
from django.db.models import TextField
from django.db.models.functions import Cast
from django.http import HttpResponse, StreamingHttpResponse
from django_redis import get_redis_connection
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps import flags
from apps.signals import backtest, notify, queries, selectors, subscriptions
from apps.signals.models import DigestSubscription, WebhookEndpoint, new_webhook_secret
from apps.signals.serializers import (
    DigestSubscriptionSerializer,
    PerformanceFilterSerializer,
    SearchFilterSerializer,
    SignalFilterSerializer,
    SignalSerializer,
    TopFilterSerializer,
    WebhookEndpointSerializer,
    utc_text,
)
from newstunneler.api import Pagination, parse_id, query_params, reads

VIEW_SIGNALS = reads("signals.view_signal")


class SignalPagination(Pagination):
    ordering = ("-t", "-id")

    def _get_position_from_instance(self, instance, ordering):
        """A cursor's position: the row's time as the API writes it, whether the database wrote it (the
        JSON page's rows) or Python does (a values() row's datetime), so both paths link alike."""
        return instance["t_text"] if "t_text" in instance else utc_text(instance["t"])


@extend_schema(parameters=[SignalFilterSerializer])
class SignalListApi(generics.ListAPIView):
    required_permissions = VIEW_SIGNALS
    serializer_class = SignalSerializer
    pagination_class = SignalPagination

    def get_queryset(self):
        # Rows as dicts (values()): the serializer reads dicts and models alike, and a page of dicts
        # skips building 50 model instances.
        return self._signals().values(*SignalSerializer.Meta.fields)

    def _signals(self):
        return selectors.signal_list(**query_params(SignalFilterSerializer, self.request))

    def list(self, request, *args, **kwargs):
        """A JSON page without explanations (the common read) is written by page_json: each row's JSON
        columns go out as the database holds them instead of being decoded to Python and encoded again
        (that round trip was a fifth of the request), and its times are read as the text the database
        writes (loading and formatting 100 datetimes in Python cost another ~6%). Anything else (the
        browsable API, explanations) goes through the serializer, which also describes the output for
        the schema."""
        if not fast_json(request):
            return super().list(request, *args, **kwargs)
        page = self.paginate_queryset(self._signals().values(*_PLAIN_FIELDS, **_AS_TEXT))
        paginator = self.paginator
        return HttpResponse(page_json(paginator.get_next_link(), paginator.get_previous_link(), page),
                            content_type="application/json")


# The JSON columns page_json writes as stored (adjacent in the serializer's output, in this order), and
# the times it reads as the database writes them (queries.UTCText).
JSON_FIELDS = ("reasons", "features")
TIME_FIELDS = ("t", "created_at")
_PLAIN_FIELDS = [name for name in SignalSerializer.Meta.fields if name not in JSON_FIELDS + TIME_FIELDS]
_AS_TEXT = {**{f"{name}_json": Cast(name, TextField()) for name in JSON_FIELDS},
            **{f"{name}_text": queries.UTCText(name) for name in TIME_FIELDS}}
_NULL_JSON_FIELDS = "".join(f',"{name}":null' for name in JSON_FIELDS) + ","
_NULLS = dict.fromkeys(JSON_FIELDS)
_STORED_JSON = "".join(f',"{name}":{{{name}_json}}' for name in JSON_FIELDS) + ","  # ,"reasons":{reasons_json},...
_TIME_TEXTS = [(name, f"{name}_text") for name in TIME_FIELDS]


def fast_json(request) -> bool:
    """Whether SignalListApi.list may write the page itself: compact JSON asked for, no explanations."""
    return (type(request.accepted_renderer) is JSONRenderer and "indent" not in (request.accepted_media_type or "")
            and not flags.is_enabled("signal_explanations", request=request))


def page_json(next_link: str | None, previous_link: str | None, rows: list[dict]) -> str:
    """The page as DRF's JSONRenderer writes it (compact, UTF-8, U+2028/2029 escaped), each row's JSON
    columns spliced in as their stored text (valid JSON already: the database checked it on the way in)
    and its times as the database wrote them (`<name>_text`, queries.UTCText).
    tests/signals/test_api_signals.py pins it to the serializer's output."""
    represent, results = SignalSerializer().to_representation, []
    for row in rows:  # (the page's own dicts: completed in place for the serializer)
        row.update(_NULLS)
        for name, text in _TIME_TEXTS:
            row[name] = row[text]
        results.append(represent(row))
    # The page written in one call with null JSON columns, then each row's stored text in place of its
    # nulls: the marker (unescaped quotes) cannot occur inside a string value, so it occurs once a row.
    parts = _dumps({"next": next_link, "previous": previous_link, "results": results}).split(_NULL_JSON_FIELDS)
    if len(parts) != len(rows) + 1:
        raise RuntimeError(f"{len(parts) - 1} JSON-column markers in a page of {len(rows)} rows")
    written = [parts[0]]
    for row, after in zip(rows, parts[1:]):  # noqa: B905 (lengths checked above)
        written += [_STORED_JSON.format_map(row), after]
    return "".join(written).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


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
        # dicts (values()): a thousand model instances cost more than the query
        return Response(hot(request, "signals-latest", lambda: SignalSerializer(
            selectors.signal_latest_per_symbol().values(*SignalSerializer.Meta.fields), many=True, context=context).data))


class SignalPerformanceApi(APIView):
    """The backtest report (apps/signals/backtest.py) for one horizon and period: overall and by label,
    catalyst, stance, source and score decile; every figure with its sample size."""

    required_permissions = reads("signals.view_signaloutcome")

    @extend_schema(parameters=[PerformanceFilterSerializer], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        params = query_params(PerformanceFilterSerializer, request)
        report = backtest.backtest(horizon=int(params["horizon"].removesuffix("d")),
                                   since=backtest.start_of_day(params.get("since")),
                                   until=backtest.start_of_day(params.get("until")))
        return Response(report.as_dict())


class SignalSearchApi(APIView):
    required_permissions = VIEW_SIGNALS
    plan_feature = "signal_search"  # an API key's plan must include it (billing's quota throttle: 403)

    @extend_schema(parameters=[SearchFilterSerializer], responses=SignalSerializer(many=True))
    def get(self, request):
        signals = selectors.signal_search(**query_params(SearchFilterSerializer, request))
        return Response(SignalSerializer(signals, many=True, context={"request": request}).data)


class DigestSubscriptionViewSet(viewsets.ModelViewSet):
    """Your own digest subscriptions (staff manage everyone's in the admin). One to an address other than
    your account's is `confirmed: false` until its recipient follows the link emailed to them."""

    serializer_class = DigestSubscriptionSerializer
    queryset = DigestSubscription.objects.none()  # (for the schema; get_queryset picks the caller's own)
    pagination_class = Pagination
    # Anyone signed in manages their own subscriptions: no role permission needed beyond that.
    required_permissions = {method: [] for method in ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")}

    def get_queryset(self):
        return DigestSubscription.objects.filter(user=self.request.user).select_related("user")

    def perform_create(self, serializer):
        subscription = serializer.save(user=self.request.user)
        subscriptions.subscription_saved(subscription=subscription, address_changed=True)

    def perform_update(self, serializer):
        before = serializer.instance.recipient
        subscription = serializer.save()
        subscriptions.subscription_saved(subscription=subscription, address_changed=subscription.recipient != before)


class WebhookEndpointViewSet(viewsets.ModelViewSet):
    """Your own webhook endpoints (staff's, and the operations events, are managed in the admin). Each
    delivery is signed with the endpoint's secret (X-NT-Signature, see README); the secret is in the
    answer that creates the endpoint, or rotates it (`rotate_secret: true`), and never again."""

    serializer_class = WebhookEndpointSerializer
    queryset = WebhookEndpoint.objects.none()  # (for the schema; get_queryset picks the caller's own)
    pagination_class = Pagination
    required_permissions = {method: [] for method in ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")}

    def get_queryset(self):
        return WebhookEndpoint.objects.filter(owner=self.request.user).order_by("id")

    def _with_secret(self, serializer, response_status):
        data = dict(self.get_serializer(serializer.instance).data)
        data["secret"] = serializer.instance.secret
        return Response(data, status=response_status)

    @extend_schema(responses={201: WebhookEndpointSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.validated_data.pop("rotate_secret", None)
        serializer.save(owner=request.user)
        return self._with_secret(serializer, 201)

    def update(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        rotate = serializer.validated_data.pop("rotate_secret", False)
        extra = {"secret": new_webhook_secret()} if rotate else {}
        if serializer.validated_data.get("enabled"):  # enabling again clears the failure state
            extra |= {"failing_since": None, "disabled_reason": ""}
        serializer.save(**extra)
        return self._with_secret(serializer, 200) if rotate else Response(self.get_serializer(serializer.instance).data)


class IgnoreAccept(DefaultContentNegotiation):
    """The stream answers text/event-stream whatever Accept says; its errors are JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AlertStreamApi(APIView):
    """Server-sent events: each new strong signal as `event: signal` with the signal's JSON (the
    same fields as the signals API) and its id as the event id, `: keepalive` comments in between.
    The connection ends after NT_ALERT_STREAM_SECONDS; EventSource clients reconnect by themselves
    (`retry: 3000`) sending `Last-Event-ID`, and get the strong signals they missed meanwhile (up to
    100, of the last hour: notify.missed_since) before the live ones."""

    required_permissions = VIEW_SIGNALS
    renderer_classes = [JSONRenderer]
    content_negotiation_class = IgnoreAccept

    @extend_schema(
        parameters=[OpenApiParameter("Last-Event-ID", int, OpenApiParameter.HEADER, required=False,
                                     description="the last signal id received: the missed ones come first")],
        responses={(200, "text/event-stream"): OpenApiResponse(
            OpenApiTypes.STR, description="`id: {signal id}` / `event: signal` / `data: {signal JSON}` per strong signal")})
    def get(self, request):
        if not flags.is_enabled("alert_stream", request=request):
            raise PermissionDenied("The live alert stream is not enabled for you (flag alert_stream).")
        last_id = request.headers.get("Last-Event-ID", "").strip()
        if last_id and parse_id(last_id) is None:
            raise ValidationError({"Last-Event-ID": ["A signal id (what the stream sent as `id:`)."]})
        pubsub = get_redis_connection("default").pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(notify.stream_channel())  # before the replay query: nothing falls in between
        missed = [json.dumps(payload) for payload in notify.missed_since(parse_id(last_id))] if last_id else []
        response = StreamingHttpResponse(
            stream_events(pubsub, settings.ALERT_STREAM_SECONDS, settings.ALERT_STREAM_KEEPALIVE, missed),
            content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
        return response


def stream_events(pubsub, seconds: float, keepalive: float, missed: list[str] = ()):
    def event(signal_id, data: str) -> str:
        return f"id: {signal_id}\nevent: signal\ndata: {data}\n\n"

    try:
        yield "retry: 3000\n: connected\n\n"
        replayed = set()
        for data in missed:
            signal_id = json.loads(data).get("id", "")
            replayed.add(signal_id)
            yield event(signal_id, data)
        deadline = last = time.monotonic()
        deadline += seconds
        while time.monotonic() < deadline:
            # Short waits: the cache's Redis socket timeout (2 s) must not fire while idle.
            message = pubsub.get_message(timeout=min(1.0, keepalive))
            now = time.monotonic()
            if message is not None and message.get("type") == "message":
                data = message["data"].decode() if isinstance(message["data"], bytes) else message["data"]
                signal_id = json.loads(data).get("id", "")
                if signal_id not in replayed:  # (published while the replay was read)
                    yield event(signal_id, data)
                last = now
            elif now - last >= keepalive:
                yield ": keepalive\n\n"
                last = now
    finally:
        pubsub.close()
