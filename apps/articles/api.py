"""Articles and sources API: one view per operation, thin, calling selectors and services."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.articles import selectors, services
from apps.articles.models import Article, ScoringPolicy, Source
from apps.articles.serializers import (
    AnalyzeRequestSerializer,
    ArticleDetailSerializer,
    ArticleFilterSerializer,
    ArticleListSerializer,
    InsiderFilterSerializer,
    InsiderTransactionSerializer,
    JobAcceptedSerializer,
    ScoringPolicySerializer,
    SourceSerializer,
)
from apps.jobs.enqueue import enqueue
from newstunneler.api import Pagination, query_params, reads


class ArticlePagination(Pagination):
    ordering = ("-published_at", "-id")


@extend_schema(parameters=[ArticleFilterSerializer])
class ArticleListApi(generics.ListAPIView):
    required_permissions = reads("articles.view_article")
    serializer_class = ArticleListSerializer
    pagination_class = ArticlePagination

    def get_queryset(self):
        return selectors.article_list(**query_params(ArticleFilterSerializer, self.request))


class InsiderPagination(Pagination):
    ordering = ("-date", "-id")


@extend_schema(parameters=[InsiderFilterSerializer])
class InsiderTransactionListApi(generics.ListAPIView):
    """Form 4 transactions (insider_trading), newest first; filter by symbol, code, open market, since."""

    required_permissions = reads("articles.view_insidertransaction")
    serializer_class = InsiderTransactionSerializer
    pagination_class = InsiderPagination

    def get_queryset(self):
        return selectors.insider_transaction_list(**query_params(InsiderFilterSerializer, self.request))


class ArticleDetailApi(generics.RetrieveAPIView):
    required_permissions = reads("articles.view_article")
    serializer_class = ArticleDetailSerializer
    queryset = Article.objects.with_details()


class ArticleAnalyzeApi(generics.GenericAPIView):
    required_permissions = {"POST": ["articles.request_analysis"]}
    metered_action = "analysis"  # the plan's monthly analyses and LLM budget apply (billing)
    queryset = Article.objects.all()
    serializer_class = AnalyzeRequestSerializer

    @extend_schema(request=AnalyzeRequestSerializer, responses={202: JobAcceptedSerializer})
    def post(self, request, pk):
        article = self.get_object()
        body = AnalyzeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # An API key's account pays for the analysis (its LLM tokens and cost are charged when it ends),
        # with the provider its plan allows (billing's quota throttle sets request.analysis_provider).
        account_id = getattr(request.auth, "account_id", None)
        provider = getattr(request, "analysis_provider", None) or body.validated_data.get("provider")
        job_id = enqueue("analyze_article", article.pk, provider=provider, account_id=account_id)
        return Response({"job_id": job_id, "article_id": article.pk}, status=status.HTTP_202_ACCEPTED)


class SourceViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                    mixins.DestroyModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = SourceSerializer
    queryset = Source.objects.all()
    pagination_class = Pagination
    ACTION_PERMISSIONS = {
        "list": "view_source", "retrieve": "view_source", "create": "add_source", "update": "change_source",
        "partial_update": "change_source", "destroy": "delete_source", "poll": "change_source",
    }

    def permissions_for(self, request):
        needed = self.ACTION_PERMISSIONS.get(self.action)
        return None if needed is None else [f"articles.{needed}"]

    @extend_schema(request=None, responses={202: JobAcceptedSerializer})
    @action(detail=True, methods=["post"])
    def poll(self, request, pk=None):
        source = self.get_object()
        return Response({"job_id": enqueue("poll_source", source.pk), "source_id": source.pk},
                        status=status.HTTP_202_ACCEPTED)




class ScoringPolicyApi(APIView):
    """The scoring policy. Analysts and admins read it; staff change it (PATCH the fields to change; every
    change is logged with its old and new values). New articles are scored with it at once; existing ones
    keep their score (re-score them in the admin)."""

    def permissions_for(self, request):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return ["articles.view_scoringpolicy"]
        if not request.user.is_staff:
            raise PermissionDenied("Only staff change the scoring policy.")
        return ["articles.change_scoringpolicy"]

    @extend_schema(responses={200: ScoringPolicySerializer})
    def get(self, request):
        return Response(ScoringPolicySerializer(ScoringPolicy.current()).data)

    @extend_schema(request=ScoringPolicySerializer, responses={200: ScoringPolicySerializer})
    def patch(self, request):
        body = ScoringPolicySerializer(ScoringPolicy.current(), data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        policy = services.scoring_policy_update(user=request.user, **body.validated_data)
        return Response(ScoringPolicySerializer(policy).data)
