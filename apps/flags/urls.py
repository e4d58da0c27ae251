from django.urls import path

from apps.flags import api

urlpatterns = [
    path("flags/", api.FlagListApi.as_view(), name="flag-list"),
    path("flags/<str:name>/", api.FlagDetailApi.as_view(), name="flag-detail"),
    path("flags/<str:name>/toggle/", api.FlagToggleApi.as_view(), name="flag-toggle"),
]
