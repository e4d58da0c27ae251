from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.signals import api

router = SimpleRouter()
router.register("digests/subscriptions", api.DigestSubscriptionViewSet, basename="digest-subscription")
router.register("webhooks", api.WebhookEndpointViewSet, basename="webhook-endpoint")

urlpatterns = [
    path("signals/", api.SignalListApi.as_view(), name="signal-list"),
    path("signals/top/", api.SignalTopApi.as_view(), name="signal-top"),
    path("signals/latest/", api.SignalLatestApi.as_view(), name="signal-latest"),
    path("signals/search/", api.SignalSearchApi.as_view(), name="signal-search"),
    path("signals/performance/", api.SignalPerformanceApi.as_view(), name="signal-performance"),
    path("alerts/stream", api.AlertStreamApi.as_view(), name="alert-stream"),
    *router.urls,
]
