"""API plumbing shared by every app: pagination, permissions and query-parameter validation."""

from rest_framework import permissions, serializers
from rest_framework.pagination import CursorPagination

WRITER_GROUPS = ("analyst", "admin")


class Pagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-id",)


class ReadOrAnalystWrites(permissions.BasePermission):
    """Anyone authenticated reads; writes need staff or the analyst/admin role."""

    message = "This action needs the analyst or admin role."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        return user.is_staff or user.groups.filter(name__in=WRITER_GROUPS).exists()


def query_params(serializer_class: type[serializers.Serializer], request) -> dict:
    """Validate query parameters with a serializer: a bad one is a 400 naming it."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return {key: value for key, value in serializer.validated_data.items() if value not in (None, "")}
