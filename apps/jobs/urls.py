from django.urls import path

from apps.jobs import api

urlpatterns = [
    path("jobs/stats", api.JobStatsApi.as_view(), name="job-stats"),
    path("jobs/dead/", api.DeadLetterListApi.as_view(), name="job-dead-list"),
    path("jobs/<str:pk>/requeue/", api.JobRequeueApi.as_view(), name="job-requeue"),
]
