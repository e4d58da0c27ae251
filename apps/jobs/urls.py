from django.urls import path

from apps.jobs import api

urlpatterns = [
    path("jobs/stats", api.JobStatsApi.as_view(), name="job-stats"),
    path("jobs/dead/", api.DeadLetterListApi.as_view(), name="job-dead-list"),
    path("jobs/<str:pk>/requeue/", api.JobRequeueApi.as_view(), name="job-requeue"),
    path("jobs/queues/", api.QueueListApi.as_view(), name="job-queues"),
    path("jobs/queues/<str:queue>/pause/", api.QueueControlApi.as_view(action="pause"), name="job-queue-pause"),
    path("jobs/queues/<str:queue>/resume/", api.QueueControlApi.as_view(action="resume"), name="job-queue-resume"),
]
