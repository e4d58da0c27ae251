"""The schema and its documentation pages. (Apart from newstunneler/openapi.py, which DRF loads as the
schema class while these views import DRF's: together they would import each other.)"""

from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer


class SchemaView(SpectacularAPIView):
    """The schema, for authenticated callers (an API key or a staff session). Its errors are JSON, in the
    API's error shape, whatever format the schema itself was asked in."""

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return response


class SwaggerView(SpectacularSwaggerView):
    """Swagger UI: the page itself is public (it holds no data); the schema and every call it makes need a
    key, pasted into the page's key bar (kept in this tab's sessionStorage only) or a staff session."""

    permission_classes = [AllowAny]
    template_name = "api/swagger_ui.html"


class RedocView(SpectacularRedocView):
    """ReDoc, as SwaggerView: a public page, the schema read with the pasted key; no web fonts from a CDN."""

    permission_classes = [AllowAny]
    template_name = "api/redoc.html"
