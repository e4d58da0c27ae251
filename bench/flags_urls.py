"""URLs of bench/flags.py only: the same tiny view checking no flag and five flags."""

from django.http import JsonResponse
from django.urls import path

from apps import flags

FIVE = ["rss_polling", "llm_analysis", "async_jobs", "redis_caching", "signal_explanations"]


def no_flags(request):
    return JsonResponse({"ok": True})


def five_flags(request):
    return JsonResponse({"ok": True, "flags": [flags.is_enabled(name, request=request) for name in FIVE]})


urlpatterns = [path("none", no_flags), path("five", five_flags)]
