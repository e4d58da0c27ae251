"""Jobs API for staff: stats, the dead letters, requeue."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.jobs import selectors, services
from apps.jobs.models import Job
from apps.jobs.serializers import JobSerializer, RequeuedSerializer
from newstunneler.api import Pagination


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

    @extend_schema(request=None, responses={202: RequeuedSerializer})
    def post(self, request, pk):
        job = self.get_object()
        (new_id,) = services.job_requeue(jobs=[job], user=request.user)
        return Response({"job_id": new_id, "requeued_from": job.pk}, status=status.HTTP_202_ACCEPTED)
