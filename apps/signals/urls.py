from django.urls import path

from apps.signals import api

urlpatterns = [
    path("signals/", api.SignalListApi.as_view(), name="signal-list"),
    path("signals/top/", api.SignalTopApi.as_view(), name="signal-top"),
    path("signals/latest/", api.SignalLatestApi.as_view(), name="signal-latest"),
    path("signals/search/", api.SignalSearchApi.as_view(), name="signal-search"),
]
