"""POST /api/graphql/: the GraphQL endpoint as a DRF view (API key or session, roles, metering, quotas)."""

import structlog
from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from graphql import GraphQLError
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps import flags
from apps.billing.refunds import refund

logger = structlog.get_logger(__name__)

_REQUEST = inline_serializer("GraphQLRequest", fields={
    "query": serializers.CharField(help_text="A GraphQL document (queries only: the schema has no mutations)."),
    "variables": serializers.DictField(required=False, allow_null=True),
    "operationName": serializers.CharField(required=False, allow_null=True),
})


class GraphQLApi(APIView):
    """The read-only GraphQL API (switch graphql_api): sources, articles, signals and their outcomes, in
    cursor pages. Send {"query", "variables"?, "operationName"?}. Each field needs the permission its REST
    twin needs (a field your role lacks is an error on that field, the rest is answered). A document
    over the depth, cost, alias or token limits is a 400 that says which; nothing of it runs. The schema:
    docs/schema.graphql (`manage.py export_graphql_schema`)."""

    def permissions_for(self, request):
        if not flags.is_enabled("graphql_api", request=request):
            raise NotFound("The GraphQL API is not enabled here (switch graphql_api).")
        return []  # any signed-in role; each field checks its own permission

    @extend_schema(request=_REQUEST, responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT})
    def post(self, request):
        from newstunneler.gql.schema import schema

        body = request.data
        if not isinstance(body, dict):
            raise ValidationError({"query": ["Send a JSON object: {\"query\": \"{ signals { … } }\"}."]})
        query, variables, operation = body.get("query"), body.get("variables"), body.get("operationName")
        if not isinstance(query, str) or not query.strip():
            raise ValidationError({"query": ["Required: a GraphQL document."]})
        if len(query) > settings.GRAPHQL_MAX_CHARS:
            raise ValidationError({"query": [f"At most {settings.GRAPHQL_MAX_CHARS} characters."]})
        if variables is not None and not isinstance(variables, dict):
            raise ValidationError({"variables": ["Must be an object of variable values."]})
        if operation is not None and not isinstance(operation, str):
            raise ValidationError({"operationName": ["Must be a string."]})
        result = schema.execute_sync(query, variable_values=variables or None, operation_name=operation,
                                     context_value={"request": request})
        errors = [self._error(error, request) for error in result.errors or ()]
        if result.data is None and errors and all(error.path is None for error in result.errors):
            # refused before running (syntax, validation, limits, variables): nothing of it ran
            refund(request)
            return Response({"detail": errors[0]["message"], "code": "invalid_query", "errors": errors}, status=400)
        return Response({"data": result.data, **({"errors": errors} if errors else {})})

    @staticmethod
    def _error(error: GraphQLError, request) -> dict:
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            return error.formatted
        # A bug, not the caller's doing: logged with its traceback, shown without internals.
        logger.error("graphql_resolver_failed", path=error.path, exc_info=original)
        return {"message": "Internal error while resolving this field (logged with the request id).",
                "path": error.path, "extensions": {"code": "internal",
                                                   "request_id": getattr(request._request, "request_id", "")}}
