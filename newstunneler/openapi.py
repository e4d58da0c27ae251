"""The OpenAPI schema documents the error answers every endpoint can give, in the one shape
newstunneler.api.exception_handler produces."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for people.")
    code = serializers.CharField(help_text="What went wrong, for programs (e.g. invalid, not_authenticated).")
    errors = serializers.DictField(
        required=False, help_text="On a 400: each bad field (or query parameter) with its messages.")


class ThrottledErrorSerializer(ErrorSerializer):
    limit = serializers.FloatField(required=False, help_text="The plan's limit that was reached.")
    used = serializers.FloatField(required=False, help_text="How much of it is used.")
    resets_at = serializers.DateTimeField(required=False, help_text="When the window resets.")


ERRORS = {
    "400": (ErrorSerializer, "Bad input: `errors` names each bad field or query parameter."),
    "401": (ErrorSerializer, "No credentials, or an unknown, revoked or expired API key."),
    "403": (ErrorSerializer, "Authenticated, but your role lacks the permission this needs (named in `detail`)."),
    "404": (ErrorSerializer, "No such object."),
    "413": (ErrorSerializer, "The request body is larger than the limit (2.5 MB)."),
    "429": (ThrottledErrorSerializer,
            "Over your plan's quota or this endpoint's rate; wait for the `Retry-After` header's seconds."),
}


class ApiSchema(AutoSchema):
    """Adds the error responses an operation can give unless its view declared them itself: 401, 403
    and 429 everywhere; 400 where it takes query parameters or a body; 413 where it takes a body; 404
    where the path names an object."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        codes = ["401", "403", "429"]
        if operation.get("requestBody") or any(p["in"] == "query" for p in parameters):
            codes.append("400")
        if operation.get("requestBody"):
            codes.append("413")
        if any(p["in"] == "path" for p in parameters):
            codes.append("404")
        responses = operation["responses"]
        for code in sorted(codes):
            if code not in responses:
                serializer, description = ERRORS[code]
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(serializer, description=description), code)
        return operation

