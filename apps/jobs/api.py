"""Jobs API for staff: stats, the dead letters, requeue."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.jobs import selectors, services
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
