from django.urls import path

from apps.billing import api

urlpatterns = [
    path("billing/usage", api.UsageApi.as_view(), name="billing-usage"),
    path("billing/limits", api.LimitsApi.as_view(), name="billing-limits"),
    path("keys/", api.ApiKeyListApi.as_view(), name="key-list"),
    path("keys/<int:pk>/", api.ApiKeyDetailApi.as_view(), name="key-detail"),
    path("keys/<int:pk>/rotate/", api.ApiKeyRotateApi.as_view(), name="key-rotate"),
]
