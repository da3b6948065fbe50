"""Small self-contained SVG plots (no plotting library): the curves the decision records show."""

from __future__ import annotations

from collections.abc import Sequence


def curve_svg(points: Sequence[tuple[float, float, float]], chosen: float, title: str, x_label: str,
              y_label: str = "precision", y_floor: float = 0.5) -> str:
    """``points`` are (x, y, threshold) with x and y in 0..1 (y from ``y_floor``); the point whose threshold is
    nearest ``chosen`` is marked and labelled."""
    size, pad = 360, 40
    span = 1.0 - y_floor

    def xy(x: float, y: float) -> tuple[float, float]:
        return pad + x * (size - 2 * pad), size - pad - (max(y, y_floor) - y_floor) / span * (size - 2 * pad)

    path = " ".join(f"{'M' if i == 0 else 'L'}{xy(x, y)[0]:.1f},{xy(x, y)[1]:.1f}"
                    for i, (x, y, _) in enumerate(points))
    cx_, cy_, _ = min(points, key=lambda q: abs(q[2] - chosen))
    cx, cy = xy(cx_, cy_)
    ticks = "".join(f'<text x="{xy(v, y_floor)[0]:.0f}" y="{size - pad + 15}" font-size="10" text-anchor="middle">'
                    f"{v:.2f}</text>" for v in (0.0, 0.25, 0.5, 0.75, 1.0))
    ticks += "".join(f'<text x="{pad - 5}" y="{xy(0, v)[1] + 3:.0f}" font-size="10" text-anchor="end">{v:.2f}</text>'
                     for v in (y_floor, y_floor + span / 2, 1.0))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" font-family="sans-serif">'
            f'<rect width="100%" height="100%" fill="white"/>'
            f'<rect x="{pad}" y="{pad}" width="{size - 2 * pad}" height="{size - 2 * pad}" fill="none" stroke="#999"/>'
            f'<path d="{path}" fill="none" stroke="#1d70b8" stroke-width="2"/>'
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="#d4351c"/>'
            f'<text x="{cx - 6:.0f}" y="{cy + 16:.0f}" font-size="11" text-anchor="end">threshold {chosen:.2f} '
            f"({x_label.split(' ')[0]} {cx_:.2f}, {y_label} {cy_:.2f})</text>{ticks}"
            f'<text x="{size / 2}" y="{size - 8}" font-size="11" text-anchor="middle">{x_label}</text>'
            f'<text x="12" y="{size / 2}" font-size="11" transform="rotate(-90 12 {size / 2})" text-anchor="middle">'
            f"{y_label}</text>"
            f'<text x="{size / 2}" y="22" font-size="12" text-anchor="middle">{title}</text></svg>\n')
