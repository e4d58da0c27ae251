"""Small time-series charts as inline SVG, drawn on the server for the admin overview: no script, no
chart library, no CDN. Every text in them goes through format_html (escaped)."""

from datetime import datetime, timedelta

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#2f6fb0", "#0b6e4f", "#c77d00", "#7a3e9d", "#8c564b", "#17becf", "#888888"]
FAILED = "#c0392b"


def lines(title: str, start: datetime, step: timedelta, series: dict[str, list[int]], *,
          colours: dict[str, str] | None = None, width: int = 620, height: int = 220, unit: str = "") -> SafeString:
    """One polyline per series over the buckets start, start + step, …; a legend with each series' total.
    The SVG carries data-total per series (what the browser tests read)."""
    if not any(any(values) for values in series.values()):
        return format_html('<p class="help nt-empty-chart">{}: nothing in this window.</p>', title)
    left, right, top, bottom = 44, 190, 14, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    buckets = max(len(values) for values in series.values())
    high = max(max(values) for values in series.values()) or 1

    def x(i: int) -> float:
        return left + plot_w * i / max(1, buckets - 1)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / high)

    parts = [format_html('<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#bbb"/>', left, top,
                         plot_w, plot_h),
             format_html_join("", '<text x="{}" y="{}" font-size="11" text-anchor="end">{}</text>',
                              ((left - 6, f"{y(v) + 4:.1f}", f"{v:g}") for v in (0, high / 2, high))),
             format_html('<text x="{}" y="{}" font-size="11">{}</text><text x="{}" y="{}" font-size="11" '
                         'text-anchor="end">{}</text>', left, height - 8, f"{start:%H:%M}", left + plot_w,
                         height - 8, f"{start + step * (buckets - 1):%H:%M} UTC")]
    colours = colours or {}
    for i, (name, values) in enumerate(series.items()):
        colour = colours.get(name, PALETTE[i % len(PALETTE)])
        points = " ".join(f"{x(j):.1f},{y(v):.1f}" for j, v in enumerate(values))
        total = sum(values)
        parts.append(format_html('<polyline class="series" data-series="{}" data-total="{}" fill="none" stroke="{}" '
                                 'stroke-width="1.6" points="{}"><title>{}: {}{}</title></polyline>',
                                 name, total, colour, points, name, total, unit))
        parts.append(format_html('<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}" '
                                 'font-size="12">{} ({})</text>', left + plot_w + 10, top + 17 * i, colour,
                                 left + plot_w + 24, top + 9 + 17 * i, name[:22], total))
    return format_html('<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}" viewBox="0 0 {} {}" '
                       'width="100%" style="max-width:{}px">{}</svg>', title, width, height, width,
                       mark_safe("".join(parts)))  # noqa: S308 - every part was built by format_html
