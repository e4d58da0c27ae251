"""API plumbing shared by every app: pagination, permissions and query-parameter validation."""

import threading
import time

from rest_framework import parsers, permissions, serializers
from rest_framework.exceptions import ParseError
from rest_framework.pagination import CursorPagination


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, but a document nested too deeply for Python's decoder is a 400 naming the
    problem, not a RecursionError (a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.", code="too_deep") from None


class Pagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-id",)

    def decode_cursor(self, request):
        """A cursor that is not one of ours is bad input (400 naming `cursor`), not a missing page."""
        from rest_framework.exceptions import NotFound, ValidationError

        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError(
                {self.cursor_query_param: ["Invalid cursor: follow the next/previous links of a page."]}) from None


class RolePermission(permissions.BasePermission):
    """Each view says which Django permissions each method needs (`required_permissions`, by HTTP
    method, or a `permissions_for(request)` method); the role groups (apps/billing/roles.py) grant
    them. A view that says nothing is closed."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if not hasattr(view, request.method.lower()):
            return True  # no such operation here: let the view answer 405
        if hasattr(view, "permissions_for"):
            required = view.permissions_for(request)
        else:
            required = getattr(view, "required_permissions", {}).get(request.method)
        if required is None:
            self.message = f"{request.method} is not allowed for your role here."
            return False
        if request.user.is_superuser or set(required) <= role_permissions(request.user):
            return True
        self.message = f"Your role lacks: {', '.join(required)}."
        return False


PERMISSIONS_TTL = 30.0  # seconds a user's role permissions are reused by this process
_permissions: dict[int, tuple[float, frozenset[str]]] = {}
_permissions_lock = threading.Lock()


def role_permissions(user) -> frozenset[str]:
    """The user's permissions (own and through groups), reused for PERMISSIONS_TTL seconds: loading them
    costs two joined queries, on every API request otherwise. A role change applies within 30 s."""
    now = time.monotonic()
    with _permissions_lock:
        hit = _permissions.get(user.pk)
        if hit and now - hit[0] < PERMISSIONS_TTL:
            return hit[1]
    found = frozenset(user.get_all_permissions()) if user.is_active else frozenset()
    with _permissions_lock:
        if len(_permissions) > 10_000:
            _permissions.clear()
        _permissions[user.pk] = (now, found)
    return found


def clear_permission_cache() -> None:
    with _permissions_lock:
        _permissions.clear()


MAX_ID = 2**63 - 1  # the largest id PostgreSQL's bigint and SQLite's INTEGER hold


def id_param(**kwargs) -> serializers.IntegerField:
    """A query parameter naming a row by id: a positive integer the database can hold (not a 500)."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def reads(*permissions_needed: str) -> dict[str, list[str]]:
    return {method: list(permissions_needed) for method in ("GET", "HEAD", "OPTIONS")}


def query_params(serializer_class: type[serializers.Serializer], request) -> dict:
    """Validate query parameters with a serializer: a bad one is a 400 naming it. When the request
    names none of its fields (the common unfiltered list), the answer for no parameters is reused:
    building and running the serializer costs ~0.3 ms a request."""
    names, empty = _without_params(serializer_class)
    if empty is not None and names.isdisjoint(request.query_params.keys()):
        return dict(empty)
    return _validated(serializer_class, request.query_params)


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return {key: value for key, value in serializer.validated_data.items() if value not in (None, "")}


_no_params: dict[type, tuple[frozenset, dict | None]] = {}


def _without_params(serializer_class) -> tuple[frozenset, dict | None]:
    """The serializer's field names, and what it makes of no parameters (None if that is an error,
    e.g. a required parameter)."""
    if serializer_class not in _no_params:
        from rest_framework.exceptions import ValidationError

        try:
            empty = _validated(serializer_class, {})
        except ValidationError:
            empty = None
        _no_params[serializer_class] = (frozenset(serializer_class().fields), empty)
    return _no_params[serializer_class]


def on_refusal(request, undo) -> None:
    """Call undo() if the view then answers this request with an error (e.g. give back a quota it took)."""
    request._request.__dict__.setdefault("nt_on_refusal", []).append(undo)


def exception_handler(exc, context):
    """One error shape for the whole API: {"detail", "code"} always; a 400 adds "errors" with each
    bad field's messages; a quota 429 adds limit, used and resets_at. A body over the size limit is a
    413 and input nested too deeply a 400, in the same shape (Django would answer an HTML 400, or 500)."""
    from rest_framework.exceptions import ValidationError
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context) or _outside_error(exc)
    request = context.get("request")
    for undo in getattr(getattr(request, "_request", None), "nt_on_refusal", ()):
        undo()
    if response is None:
        return None
    data = response.data
    if isinstance(exc, ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        response.data = {"detail": f"Invalid input: {', '.join(errors)}.", "code": "invalid", "errors": errors}
    elif isinstance(data, dict) and "detail" in data and "code" not in data:
        response.data = {**data, "code": getattr(data["detail"], "code", None) or getattr(exc, "default_code", "error")}
    return response


def _outside_error(exc):
    """Errors Django or Python raise while a view reads its input, answered in the API's shape."""
    from django.conf import settings
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
    from rest_framework.response import Response

    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response({"detail": f"The request body is larger than the {limit / 1024 / 1024:g} MB limit.",
                         "code": "too_large"}, status=413)
    if isinstance(exc, TooManyFieldsSent):
        return Response({"detail": "The request has too many fields.", "code": "too_many_fields"}, status=400)
    if isinstance(exc, RecursionError):
        return Response({"detail": "The input is nested too deeply.", "code": "too_deep"}, status=400)
    return None


def _api_error_page(request, status: int, detail: str, code: str):
    """Django's own error answers (handler400/403/500) in the API's shape under /api/; None elsewhere."""
    from django.http import JsonResponse

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail, "code": code}, status=status)
    return None


def bad_request(request, exception=None):
    from django.views import defaults

    return _api_error_page(request, 400, "Bad request.", "bad_request") or defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    from django.views import defaults

    return (_api_error_page(request, 403, "You do not have permission to perform this action.", "permission_denied")
            or defaults.permission_denied(request, exception))


def server_error(request):
    from django.views import defaults

    return _api_error_page(request, 500, "Server error (logged).", "server_error") or defaults.server_error(request)


def not_found(request, exception=None):
    """Unknown URLs under /api/ answer JSON like every other API error; elsewhere Django's page."""
    from django.views import defaults

    return _api_error_page(request, 404, "Not found.", "not_found") or defaults.page_not_found(request, exception)
