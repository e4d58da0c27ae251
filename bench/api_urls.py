"""URLs of bench/api.py: the project's, plus a plain Django view of the same 50 signals."""

from django.http import JsonResponse
from django.urls import include, path

from apps.signals.models import Signal

FIELDS = ["id", "symbol", "t", "score", "label", "stance", "reasons", "features", "article_id", "created_at"]


def plain_signals(request):
    return JsonResponse({"results": list(Signal.objects.order_by("-t", "-id").values(*FIELDS)[:50])})


urlpatterns = [path("bench/plain-signals", plain_signals), path("", include("newstunneler.urls"))]
