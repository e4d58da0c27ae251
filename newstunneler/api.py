"""API plumbing shared by every app: parsing, pagination, query-parameter validation and the error shape.
Who may do what (roles) and what a request costs (quotas, refunds) belong to billing."""

from rest_framework import parsers, serializers
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


MAX_ID = 2**63 - 1  # the largest id PostgreSQL's bigint and SQLite's INTEGER hold


def parse_id(text) -> int | None:
    """A row id given as text (a header, a query string, a cursor): None unless it is decimal digits the
    database can hold (a longer number names no row, and would overflow the driver)."""
    text = str(text)
    if text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= MAX_ID:
        return int(text)
    return None


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


def exception_handler(exc, context):
    """One error shape for the whole API: {"detail", "code"} always; a 400 adds "errors" with each
    bad field's messages; a quota 429 adds limit, used and resets_at. A body over the size limit is a
    413 and input nested too deeply a 400, in the same shape (Django would answer an HTML 400, or 500)."""
    from rest_framework.exceptions import ValidationError
    from rest_framework.views import exception_handler as drf_exception_handler

    from apps.billing.refunds import refund

    response = drf_exception_handler(exc, context) or _outside_error(exc)
    refund(context.get("request"))  # what this request took from a quota, given back: it was refused
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
