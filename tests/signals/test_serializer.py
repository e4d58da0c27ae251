"""The signal serializer builds its dict directly (speed), from models or values() rows; it must equal
DRF's field-by-field output."""

import pytest

from apps.signals.models import Signal
from apps.signals.serializers import SignalSerializer, representation_by_fields
from tests import factories

pytestmark = pytest.mark.django_db


def test_direct_representation_equals_the_field_by_field_one():
    factories.article("Apple (NASDAQ: AAPL) beats estimates and raises guidance", analyse=True)
    factories.article("Tesla (NASDAQ: TSLA) recalls 10,000 cars over brake fault", analyse=True)
    orphan = Signal.objects.order_by("id").last()
    orphan.article = None  # its article was deleted (SET_NULL)
    orphan.save()
    signals = list(Signal.objects.with_article().order_by("id"))
    assert len(signals) >= 2 and any(s.article_id is None for s in signals) and any(s.article_id for s in signals)
    serializer = SignalSerializer()
    for signal in signals:
        direct, by_fields = serializer.to_representation(signal), representation_by_fields(serializer, signal)
        assert direct == by_fields
        assert list(direct) == list(by_fields)  # same key order too
    rows = list(Signal.objects.with_article().order_by("id").values(*SignalSerializer.Meta.fields))
    assert [serializer.to_representation(row) for row in rows] == [serializer.to_representation(s) for s in signals]
    with_article = next(s for s in signals if s.article_id)
    assert serializer.to_representation(with_article)["article_title"].startswith(("Apple", "Tesla"))
