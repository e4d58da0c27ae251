"""The backtest report's two charts as inline SVG, drawn on the server: no script, no chart library, no
CDN; every text in them comes through format_html (escaped). Used by the admin's performance page."""

from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from apps.signals.backtest import Group

NOTHING_TO_DRAW = mark_safe('<p class="help">No outcomes in this period: nothing to draw.</p>')  # a constant

WIDTH, HEIGHT = 780, 300
LEFT, RIGHT, TOP, BOTTOM = 60, 230, 16, 36  # margins: the legend ("High-Conviction (+16.8%, n=94)") sits on the right
COLOURS = {"High-Conviction": "#0b6e4f", "Opportunity": "#2f6fb0", "Watch": "#c77d00", "Ignore": "#888888"}
OTHER = "#7a3e9d"


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    step = (high - low) / (count - 1)
    return [low + i * step for i in range(count)]


def cumulative_excess(series: dict[str, list[dict]]) -> SafeString:
    """One line per label: the running sum of each entry day's mean excess return, in %."""
    points = [p for line in series.values() for p in line]
    if not points:
        return NOTHING_TO_DRAW
    days = sorted({date.fromisoformat(p["day"]) for p in points})
    first, span = days[0], max(1, (days[-1] - days[0]).days)
    values = [100 * p["cumulative_excess"] for p in points] + [0.0]
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: str) -> float:
        return LEFT + plot_w * (date.fromisoformat(day) - first).days / span

    def y(value: float) -> float:
        return TOP + plot_h * (high - value) / (high - low)

    parts = [_axes(plot_w, plot_h, [(y(v), f"{v:+.1f}%") for v in _ticks(low, high)]),
             format_html('<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#444" stroke-dasharray="3 3"/>',
                         LEFT, LEFT + plot_w, f"{y(0):.1f}", f"{y(0):.1f}")]
    parts.append(format_html('<text x="{}" y="{}" font-size="11">{}</text><text x="{}" y="{}" font-size="11" '
                             'text-anchor="end">{}</text>', LEFT, HEIGHT - 10, days[0].isoformat(), LEFT + plot_w,
                             HEIGHT - 10, days[-1].isoformat()))
    for i, (label, line) in enumerate(series.items()):
        colour = COLOURS.get(label, OTHER)
        coords = " ".join(f"{x(p['day']):.1f},{y(100 * p['cumulative_excess']):.1f}" for p in line)
        final, n = 100 * line[-1]["cumulative_excess"], sum(p["count"] for p in line)
        parts.append(format_html(
            '<polyline class="series" data-label="{}" fill="none" stroke="{}" stroke-width="2" points="{}">'
            '<title>{}: {} cumulative, {} signals</title></polyline>', label, colour, coords, label, f"{final:+.2f}%", n))
        parts.append(format_html(
            '<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}" font-size="12">{} '
            '({}, n={})</text>', LEFT + plot_w + 12, TOP + 18 * i, colour, LEFT + plot_w + 26, TOP + 9 + 18 * i,
            label, f"{final:+.1f}%", n))
    return _svg("Cumulative excess return by label", parts)


def hit_rate_by_decile(groups: list[Group]) -> SafeString:
    """A bar per score decile: the hit rate with its 95 % interval and sample size; a decile too small
    for a rate says so instead of a bar."""
    if not groups:
        return NOTHING_TO_DRAW
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(groups)

    def y(rate: float) -> float:
        return TOP + plot_h * (1 - rate)

    parts = [_axes(plot_w, plot_h, [(y(v), f"{v:.0%}") for v in _ticks(0, 1)]),
             format_html('<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#444" stroke-dasharray="3 3"/>',
                         LEFT, LEFT + plot_w, f"{y(0.5):.1f}", f"{y(0.5):.1f}")]
    for i, group in enumerate(groups):
        left, centre = LEFT + i * slot + slot * 0.15, LEFT + (i + 0.5) * slot
        parts.append(format_html('<text x="{}" y="{}" font-size="11" text-anchor="middle">{}</text>',
                                 f"{centre:.1f}", HEIGHT - 20, group.key))
        parts.append(format_html('<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#555">n={}</text>',
                                 f"{centre:.1f}", HEIGHT - 6, group.directional))
        if group.hit_rate is None:
            parts.append(format_html(
                '<text class="too-small" x="{}" y="{}" font-size="10" text-anchor="middle" fill="#a00" '
                'transform="rotate(-90 {} {})">too small<title>{}</title></text>', f"{centre:.1f}",
                f"{y(0.3):.1f}", f"{centre:.1f}", f"{y(0.3):.1f}", group.note))
            continue
        parts.append(format_html(
            '<rect class="bar" data-decile="{}" x="{}" y="{}" width="{}" height="{}" fill="#2f6fb0">'
            '<title>{}: hit rate {} (95% CI {}-{}), {} directional signals</title></rect>',
            group.key, f"{left:.1f}", f"{y(group.hit_rate):.1f}", f"{slot * 0.7:.1f}",
            f"{plot_h * group.hit_rate:.1f}", group.key, f"{group.hit_rate:.1%}", f"{group.hit_rate_low:.1%}",
            f"{group.hit_rate_high:.1%}", group.directional))
        parts.append(format_html('<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#111" stroke-width="1.5"/>',
                                 f"{centre:.1f}", f"{centre:.1f}", f"{y(group.hit_rate_low):.1f}",
                                 f"{y(group.hit_rate_high):.1f}"))
    return _svg("Hit rate by score decile", parts)


def _axes(plot_w: float, plot_h: float, ticks: list[tuple[float, str]]) -> SafeString:
    lines = format_html('<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#bbb"/>', LEFT, TOP,
                        plot_w, plot_h)
    labels = format_html_join("", '<text x="{}" y="{}" font-size="11" text-anchor="end">{}</text>',
                              ((LEFT - 6, f"{at + 4:.1f}", text) for at, text in ticks))
    return lines + labels


def _svg(title: str, parts: list[SafeString]) -> SafeString:
    return format_html('<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}" viewBox="0 0 {} {}" '
                       'width="100%" style="max-width:{}px">{}</svg>', title, WIDTH, HEIGHT, WIDTH,
                       mark_safe("".join(parts)))  # noqa: S308 - every part was built by format_html
