from rest_framework import serializers

from apps import flags

from apps.signals.models import Label, Signal


class SignalSerializer(serializers.ModelSerializer):
    article_id = serializers.IntegerField(read_only=True, allow_null=True)
    article_title = serializers.CharField(source="article.title", read_only=True, default=None)
    article_url = serializers.CharField(source="article.url", read_only=True, default=None)

    class Meta:
        model = Signal
        fields = ["id", "symbol", "t", "score", "label", "stance", "reasons", "features", "article_id",
                  "article_title", "article_url", "created_at"]

    def to_representation(self, signal):
        data = super().to_representation(signal)
        request = self.context.get("request")
        if request is not None and flags.is_enabled("signal_explanations", request=request):
            data["explanation"] = explain(signal)
        return data


def explain(signal: Signal) -> str:
    """A plain-English account of the score (preview behind the signal_explanations flag)."""
    top = [f"{r['factor'].removeprefix('topic:').replace('_', ' ')} ({r['contribution']:+.0f})" for r in signal.reasons[:3]]
    lean = "bullish" if signal.score > 55 else "bearish" if signal.score < 45 else "neutral"
    return f"{signal.symbol} scores {signal.score:.0f}/100 ({signal.label}, {lean}), mostly from " + ", ".join(top or ["no strong factor"]) + "."


class SignalFilterSerializer(serializers.Serializer):
    symbol = serializers.RegexField(r"^[A-Za-z][A-Za-z0-9.\-]{0,11}$", required=False)
    label = serializers.ChoiceField(choices=Label.choices, required=False)
    min_score = serializers.FloatField(required=False, min_value=0, max_value=100)
    since = serializers.DateTimeField(required=False)


class TopFilterSerializer(serializers.Serializer):
    hours = serializers.IntegerField(required=False, default=24, min_value=1, max_value=24 * 30)
    limit = serializers.IntegerField(required=False, default=20, min_value=1, max_value=200)


class SearchFilterSerializer(serializers.Serializer):
    q = serializers.CharField(max_length=200)
    limit = serializers.IntegerField(required=False, default=50, min_value=1, max_value=200)
