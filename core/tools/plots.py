"""The FAR / FRR against threshold plot of an evaluation, drawn with Pillow (shared by CLI and window)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

from core.tools.evaluate import EvalReport
from core.tools.render import font, text_width

SIZE = (640, 400)
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 20, 34, 46
FAR_COLOUR, FRR_COLOUR, MARK_COLOUR = (200, 40, 40), (30, 90, 200), (60, 150, 60)


def plot_image(report: EvalReport, current: float | None = None) -> Image.Image:
    """FAR (red) and FRR (blue) over the report's thresholds; the recommended threshold in green,
    the threshold in use (``current``) in grey."""
    img = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(img)
    small, title = font(12), font(14)
    w, h = SIZE
    x0, x1, y0, y1 = _LEFT, w - _RIGHT, h - _BOTTOM, _TOP
    ts = [r.threshold for r in report.thresholds]
    lo, hi = (min(ts), max(ts)) if ts else (0.0, 1.0)
    span = (hi - lo) or 1.0

    def px(t: float, rate: float) -> tuple[float, float]:
        return x0 + (t - lo) / span * (x1 - x0), y0 - rate * (y0 - y1)

    for i in range(6):  # grid and labels
        rate = i / 5
        _, y = px(lo, rate)
        draw.line([(x0, y), (x1, y)], fill=(230, 230, 230))
        label = f"{rate:.1f}"
        draw.text((x0 - 8 - text_width(label, small), y - 7), label, fill="black", font=small)
    t = round(lo, 1)
    while t <= hi + 1e-9:
        x, _ = px(t, 0)
        draw.line([(x, y0), (x, y0 + 4)], fill="black")
        draw.text((x - text_width(f"{t:.1f}", small) / 2, y0 + 6), f"{t:.1f}", fill="black", font=small)
        t = round(t + 0.1, 1)
    draw.rectangle([x0, y1, x1, y0], outline="black")
    draw.text(
        ((x0 + x1 - text_width("threshold (Euclidean distance)", small)) / 2, h - 20),
        "threshold (Euclidean distance)",
        fill="black",
        font=small,
    )

    for when, colour, label in ((current, (150, 150, 150), "in use"), (report.recommended, MARK_COLOUR, "recommended")):
        if when is not None and lo <= when <= hi:
            x, _ = px(when, 0)
            for y in range(int(y1), int(y0), 8):
                draw.line([(x, y), (x, min(y + 4, y0))], fill=colour, width=2)
            text = f"{label} {when:.2f}"
            tx = x + 4 if x < (x0 + x1) / 2 else x - 4 - text_width(text, small)
            draw.text((tx, y1 + 4 + (14 if label == "in use" else 0)), text, fill=colour, font=small)
    for rates, colour in (
        ([r.false_accept_rate for r in report.thresholds], FAR_COLOUR),
        ([r.false_reject_rate for r in report.thresholds], FRR_COLOUR),
    ):
        if len(ts) > 1:
            draw.line([px(t, r) for t, r in zip(ts, rates, strict=True)], fill=colour, width=3)
    head = (
        f"FAR (open set, {report.impostor_attempts} attempts) and FRR "
        f"({report.probes} probes, {report.mode}); p@1 {report.p_at.get(1, 0):.2f}"
    )
    draw.text((x0, 8), head, fill="black", font=title)
    for i, (label, colour) in enumerate((("FAR", FAR_COLOUR), ("FRR", FRR_COLOUR))):
        lx = (x0 + x1) / 2 - 30
        ly = y1 + 44 + i * 16
        draw.line([(lx, ly + 7), (lx + 20, ly + 7)], fill=colour, width=3)
        draw.text((lx + 26, ly), label, fill=colour, font=small)
    return img


def plot_png(report: EvalReport, current: float | None = None) -> bytes:
    buf = io.BytesIO()
    plot_image(report, current).save(buf, "PNG")
    return buf.getvalue()


def save_plot(report: EvalReport, path: str | Path, current: float | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(plot_png(report, current))
    return path


def det_image(points: list[tuple[float, float, float]], title: str, mark: float = 0.0) -> Image.Image:
    """A DET-style curve: BPCER (up) against APCER (right) as a score threshold moves, from
    ``points`` (threshold, APCER, BPCER); the point at threshold ``mark`` (the one in use) ringed."""
    img = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(img)
    small, big = font(12), font(14)
    w, h = SIZE
    x0, x1, y0, y1 = _LEFT, w - _RIGHT, h - _BOTTOM, _TOP

    def px(apcer: float, bpcer: float) -> tuple[float, float]:
        return x0 + apcer * (x1 - x0), y0 - bpcer * (y0 - y1)

    for i in range(6):
        rate = i / 5
        _, y = px(0, rate)
        x, _ = px(rate, 0)
        draw.line([(x0, y), (x1, y)], fill=(230, 230, 230))
        draw.line([(x, y0), (x, y1)], fill=(230, 230, 230))
        draw.text((x0 - 8 - text_width(f"{rate:.1f}", small), y - 7), f"{rate:.1f}", fill="black", font=small)
        draw.text((x - text_width(f"{rate:.1f}", small) / 2, y0 + 6), f"{rate:.1f}", fill="black", font=small)
    draw.rectangle([x0, y1, x1, y0], outline="black")
    draw.text(
        ((x0 + x1 - text_width("APCER (attacks let through)", small)) / 2, h - 20),
        "APCER (attacks let through)",
        fill="black",
        font=small,
    )
    draw.text((x0 + 6, y1 + 4), "BPCER (genuine refused)", fill="black", font=small)
    # from the lowest threshold (every attack passes, no genuine refused) to above the highest
    curve = [(1.0, 0.0)] + [(a, b) for _, a, b in points] + [(0.0, 1.0)]
    draw.line([px(a, b) for a, b in curve], fill=FRR_COLOUR, width=3)
    at = [(a, b) for t, a, b in points if t >= mark]
    a, b = at[0] if at else (0.0, 1.0)
    x, y = px(a, b)
    draw.ellipse([x - 6, y - 6, x + 6, y + 6], outline=MARK_COLOUR, width=3)
    draw.text((x + 8, y - 16), f"threshold {mark:+.1f}: APCER {a:.0%}, BPCER {b:.0%}", fill=MARK_COLOUR, font=small)
    draw.text((x0, 8), title, fill="black", font=big)
    return img


def save_det_plot(points: list[tuple[float, float, float]], path: str | Path, title: str, mark: float = 0.0) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    det_image(points, title, mark).save(path, "PNG")
    return path
