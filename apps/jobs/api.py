"""Jobs API for staff: stats, the dead letters, requeue."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.jobs import queues, selectors, services
from apps.jobs.models import Job
from apps.jobs.serializers import JobSerializer, RequeuedSerializer, RequeueRequestSerializer
from newstunneler.api import Pagination
from newstunneler.openapi import ErrorSerializer


class DeadLetterPagination(Pagination):
    ordering = ("-finished_at", "-id")


class JobStatsApi(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response(selectors.job_stats())


class DeadLetterListApi(generics.ListAPIView):
    permission_classes = [permissions.IsAdminUser]
    serializer_class = JobSerializer
    pagination_class = DeadLetterPagination

    def get_queryset(self):
        return Job.objects.dead()


class JobRequeueApi(generics.GenericAPIView):
    permission_classes = [permissions.IsAdminUser]
    queryset = Job.objects.all()
    serializer_class = RequeuedSerializer

    @extend_schema(request=RequeueRequestSerializer, responses={
        202: RequeuedSerializer,
        409: OpenApiResponse(ErrorSerializer, description="The job is queued, retrying, running or succeeded: "
                                                          "send force=true to requeue it anyway.")})
    def post(self, request, pk):
        job = self.get_object()
        body = RequeueRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            (new_id,) = services.job_requeue(jobs=[job], user=request.user, force=body.validated_data["force"])
        except services.RequeueRefused as refused:
            raise RequeueConflict(f"Job {job.pk} is {job.status}: requeueing would run it again beside that. "
                                  "Send force=true to requeue it anyway.") from refused
        return Response({"job_id": new_id, "requeued_from": job.pk}, status=status.HTTP_202_ACCEPTED)


class RequeueConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "needs_force"


class QueueListApi(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(responses={200: dict})
    def get(self, request):
        """Every queue: waiting jobs (ledger), waiting messages (broker), oldest waiting job, paused or not."""
        return Response({"queues": [
            {"queue": q.queue, "ledger_waiting": q.ledger, "broker_waiting": q.broker, "paused": q.paused,
             "oldest_queued_at": q.oldest_queued} for q in selectors.queue_depths()]})


class QueueControlApi(APIView):
    """POST pause/ or resume/: hold a queue's messages (in order) or let them run; audited."""

    permission_classes = [permissions.IsAdminUser]
    action = "pause"

    @extend_schema(request=None, responses={200: dict, 404: OpenApiResponse(ErrorSerializer, description="No such queue."),
                                            409: OpenApiResponse(ErrorSerializer, description="The broker cannot pause.")})
    def post(self, request, queue):
        if queue not in queues.known_queues():
            raise NotFound(f"No queue named {queue!r}.")
        try:
            control = queues.queue_pause if self.action == "pause" else queues.queue_resume
            changed = control(queue=queue, user=request.user)
        except queues.QueueControlError as exc:
            raise QueueNotPausable(str(exc)) from exc
        return Response({"queue": queue, "paused": self.action == "pause", "changed": changed})


class QueueNotPausable(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "not_pausable"
