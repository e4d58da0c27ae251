from rest_framework import serializers

from apps.jobs.models import Job


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = ["id", "actor", "queue", "args", "kwargs", "status", "attempts", "error_class", "error_message",
                  "traceback", "enqueued_at", "started_at", "finished_at", "duration_ms", "worker", "request_id",
                  "requeued_from"]


class RequeuedSerializer(serializers.Serializer):
    job_id = serializers.CharField()
    requeued_from = serializers.CharField()


class RequeueRequestSerializer(serializers.Serializer):
    force = serializers.BooleanField(
        default=False, help_text="Requeue even a queued, retrying, running or succeeded job (it then runs again).")
