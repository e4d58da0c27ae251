from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from apps.signals import views as signal_views
from newstunneler import health, metrics
from newstunneler.docs import RedocView, SchemaView, SwaggerView
from newstunneler.gql.views import GraphQLApi

urlpatterns = [
    path("", TemplateView.as_view(template_name="index.html"), name="index"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("digests/unsubscribe/<str:token>/", signal_views.unsubscribe, name="digest-unsubscribe"),
    path("digests/confirm/<str:token>/", signal_views.confirm, name="digest-confirm"),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("api/graphql/", GraphQLApi.as_view(), name="graphql"),
    path("api/v1/", include("apps.articles.urls")),
    path("api/v1/", include("apps.signals.urls")),
    path("api/v1/", include("apps.jobs.urls")),
    path("api/v1/", include("apps.flags.urls")),
    path("api/v1/", include("apps.billing.urls")),
]


handler404 = "newstunneler.api.not_found"
handler400 = "newstunneler.api.bad_request"
handler403 = "newstunneler.api.permission_denied"
handler500 = "newstunneler.api.server_error"
