from django.db import models


class Interval(models.TextChoices):
    DAY = "1d", "1 day"
    HOUR = "1h", "1 hour"


class PriceBar(models.Model):
    """One bar of one symbol. `t` is when the bar closed (a daily bar: its session's close, 16:00
    New York, 13:00 on a half day), so a bar exists only once it is known: the first bar strictly
    after a moment is the first one that moment could trade on. Prices as traded; `adj_close` is the
    close adjusted for later splits and dividends (returns are computed from it)."""

    symbol = models.CharField(max_length=12)
    interval = models.CharField(max_length=2, choices=Interval.choices, default=Interval.DAY)
    t = models.DateTimeField(help_text="When the bar closed (UTC).")
    open = models.FloatField()
    high = models.FloatField()
    low = models.FloatField()
    close = models.FloatField()
    adj_close = models.FloatField(help_text="Close adjusted for splits and dividends after this bar.")
    volume = models.BigIntegerField(default=0)
    source = models.CharField(max_length=40, help_text="csv:<file> or the provider's name")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["symbol", "interval", "t"], name="pricebar_symbol_interval_t_unique"),
            models.CheckConstraint(condition=models.Q(low__lte=models.F("high")), name="pricebar_low_le_high"),
        ]
        ordering = ["symbol", "interval", "t"]

    def __str__(self):
        return f"{self.symbol} {self.interval} {self.t:%Y-%m-%d %H:%M} close {self.close}"

    @property
    def adjustment(self) -> float:
        """The factor that turns this bar's traded prices into adjusted ones."""
        return self.adj_close / self.close if self.close else 1.0
