"""URLs of bench/api.py: the project's, plus a plain Django view of the same 50 signals."""

from django.http import JsonResponse
from django.urls import include, path

from apps.signals.models import Signal

FIELDS = ["id", "symbol", "t", "score", "label", "stance", "reasons", "features", "article_id", "article_title",
          "article_url", "predicted_up", "model_version", "expected_move", "created_at"]


def plain_signals(request):
    """The API's first page, with none of the API: the same 50 rows (newest first, each with its article's
    title and URL, joined), as JSON."""
    return JsonResponse({"results": list(Signal.objects.with_article().order_by("-id").values(*FIELDS)[:50])})


urlpatterns = [path("bench/plain-signals", plain_signals), path("", include("newstunneler.urls"))]
