from django.urls import path

from apps.billing import api

urlpatterns = [
    path("billing/usage", api.UsageApi.as_view(), name="billing-usage"),
    path("billing/limits", api.LimitsApi.as_view(), name="billing-limits"),
]
