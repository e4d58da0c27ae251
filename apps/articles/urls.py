from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.articles import api

router = SimpleRouter()
router.register("sources", api.SourceViewSet, basename="source")

urlpatterns = [
    path("articles/", api.ArticleListApi.as_view(), name="article-list"),
    path("articles/<int:pk>/", api.ArticleDetailApi.as_view(), name="article-detail"),
    path("articles/<int:pk>/analyze/", api.ArticleAnalyzeApi.as_view(), name="article-analyze"),
    path("insider-transactions/", api.InsiderTransactionListApi.as_view(), name="insider-transaction-list"),
    path("settings/scoring/", api.ScoringPolicyApi.as_view(), name="scoring-policy"),
    *router.urls,
]
