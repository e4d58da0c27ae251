from datetime import UTC, datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from apps import flags
from apps.signals.models import CONSUMER_EVENT_TYPES, DigestSubscription, Label, Signal, WebhookEndpoint


class PerformanceFilterSerializer(serializers.Serializer):
    horizon = serializers.ChoiceField(choices=["1d", "5d", "20d"], default="5d",
                                      help_text="sessions after the entry bar")
    since = serializers.DateField(required=False, help_text="signals entered from this day (UTC)")
    until = serializers.DateField(required=False, help_text="signals entered before this day (UTC)")

    def validate(self, data):
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise serializers.ValidationError({"until": ["must be after since"]})
        return data


class SignalSerializer(serializers.ModelSerializer):
    """Read-only. Signals come from Signal.objects.with_article() (article_title / article_url annotated)."""

    article_id = serializers.IntegerField(read_only=True, allow_null=True)
    article_title = serializers.CharField(read_only=True, allow_null=True)
    article_url = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Signal
        fields = ["id", "symbol", "t", "score", "label", "stance", "reasons", "features", "article_id",
                  "article_title", "article_url", "predicted_up", "model_version", "expected_move", "created_at"]

    def to_representation(self, signal):
        # The fields above describe the output (and the OpenAPI schema); the dict is built directly,
        # which is ~5x faster than field-by-field for the 50-200 rows of a page. A test pins it equal
        # to the field-by-field output (representation_by_fields).
        row = signal if isinstance(signal, dict) else vars(signal)  # a values() row, or a model's attributes
        data = {
            "id": row["id"], "symbol": row["symbol"], "t": utc_text(row["t"]), "score": float(row["score"]),
            "label": row["label"], "stance": row["stance"], "reasons": row["reasons"], "features": row["features"],
            "article_id": row["article_id"], "article_title": row.get("article_title"),
            "article_url": row.get("article_url"), "predicted_up": row["predicted_up"],
            "model_version": row["model_version"], "expected_move": row["expected_move"],
            "created_at": utc_text(row["created_at"]),
        }
        if self._explains():
            data["explanation"] = explain(data)
        return data

    def _explains(self) -> bool:
        """Whether the caller gets explanations (a per-user flag), asked once per page, not per row."""
        if "_explains_answer" not in self.__dict__:
            request = self.context.get("request")
            self._explains_answer = request is not None and flags.is_enabled("signal_explanations", request=request)
        return self._explains_answer


def utc_text(value: datetime | str) -> str:
    """A datetime as DRF's DateTimeField renders it in UTC (ISO 8601, "Z"); text the database already
    wrote that way (queries.UTCText, the signals list's JSON page) as it is."""
    if isinstance(value, str):
        return value
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def representation_by_fields(serializer: SignalSerializer, signal: Signal) -> dict:
    """The field-by-field output of ModelSerializer, which to_representation must equal."""
    return serializers.ModelSerializer.to_representation(serializer, signal)


def explain(signal: dict) -> str:
    """A plain-English account of the score (preview behind the signal_explanations flag), from a
    signal's representation."""
    top = [f"{r['factor'].removeprefix('topic:').replace('_', ' ')} ({r['contribution']:+.0f})"
           for r in signal["reasons"][:3]]
    score = signal["score"]
    lean = "bullish" if score > 55 else "bearish" if score < 45 else "neutral"
    return (f"{signal['symbol']} scores {score:.0f}/100 ({signal['label']}, {lean}), mostly from "
            + ", ".join(top or ["no strong factor"]) + ".")


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


class DigestSubscriptionSerializer(serializers.ModelSerializer):
    symbols = serializers.ListField(
        child=serializers.RegexField(r"^[A-Za-z][A-Za-z0-9.\-]{0,11}$"), required=False, max_length=100,
        help_text="Only these symbols (empty: all).")
    labels = serializers.ListField(child=serializers.ChoiceField(choices=Label.choices), required=False,
                                   help_text="Only these labels (empty: all).")
    recipient = serializers.CharField(read_only=True, help_text="Where it is sent.")
    confirmed = serializers.BooleanField(
        source="is_confirmed", read_only=True,
        help_text="False until the recipient follows the link emailed to them (any address but your own); "
                  "nothing is sent before.")

    class Meta:
        model = DigestSubscription
        fields = ["id", "email", "recipient", "confirmed", "frequency", "min_score", "symbols", "labels", "active",
                  "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = {"min_score": {"min_value": 0, "max_value": 100}}

    def validate_symbols(self, value):
        return sorted({symbol.upper() for symbol in value})

    def validate(self, data):
        from apps.signals.subscriptions import MAX_UNCONFIRMED_PER_USER, unconfirmed_count

        user = self.context["request"].user
        email = data.get("email", getattr(self.instance, "email", ""))
        if not email and not user.email:
            raise serializers.ValidationError({"email": ["Your user has no email address: give one."]})
        new_address = email and email.strip().lower() != (user.email or "").strip().lower() and (
            self.instance is None or email.strip().lower() != self.instance.recipient)
        if new_address and unconfirmed_count(user) >= MAX_UNCONFIRMED_PER_USER:
            raise serializers.ValidationError({"email": [
                f"You have {MAX_UNCONFIRMED_PER_USER} subscriptions waiting for their recipients to confirm: "
                "wait for those, or delete some, before adding another address."]})
        return data


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An API consumer's own webhook endpoint. Its signing secret is shown in the answer that creates it
    (and when rotated with `rotate_secret: true`), never again."""

    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=CONSUMER_EVENT_TYPES), min_length=1, max_length=len(CONSUMER_EVENT_TYPES),
        help_text=f"Any of: {', '.join(CONSUMER_EVENT_TYPES)}.")
    rotate_secret = serializers.BooleanField(write_only=True, required=False, default=False,
                                             help_text="true: a new signing secret, shown in this answer only")

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "name", "url", "event_types", "enabled", "failing_since", "disabled_reason", "last_success_at",
                  "created_at", "rotate_secret"]
        read_only_fields = ["failing_since", "disabled_reason", "last_success_at", "created_at"]

    def validate(self, data):
        fields = {key: value for key, value in data.items() if key != "rotate_secret"}
        probe = WebhookEndpoint(**{**({f: getattr(self.instance, f) for f in ("name", "url", "event_types")}
                                      if self.instance else {}), **fields})
        try:
            probe.clean()  # the feeds' SSRF rules for the address
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return data
