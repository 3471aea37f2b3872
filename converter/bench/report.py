"""The benchmark's rows, the goals our rows are judged by, and the table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Row:
    workload: str
    tool: str
    seconds: float
    bytes: int
    frames: int
    ssim_mean: float
    ssim_min: float
    peak_rss_mb: float
    total_ms: int
    loop: int
    note: str = ""


HEADER = (
    f"{'workload':<14} {'tool':<13} {'seconds':>7} {'bytes':>9} {'frames':>6} "
    f"{'ssim':>6} {'min':>6} {'rss MB':>6} {'total ms':>8} {'loop':>4}  goal"
)


def format_row(r: Row) -> str:
    return (
        f"{r.workload:<14} {r.tool:<13} {r.seconds:7.2f} {r.bytes:9d} {r.frames:6d} "
        f"{r.ssim_mean:6.4f} {r.ssim_min:6.4f} {r.peak_rss_mb:6.0f} {r.total_ms:8d} "
        f"{r.loop:4d}  {r.note}"
    )


def judge(rows: list[Row]) -> None:
    """Mark each of our rows against the issue's goals for its format:
    GIF: SSIM >= gifski, bytes <= gifski, time <= 1.5 x the ffmpeg one-liner;
    WebP: SSIM >= ffmpeg libwebp, bytes <= it, time <= 1.2 x it."""
    by = {(r.workload, r.tool): r for r in rows}
    for r in rows:
        if not r.tool.startswith("ours"):
            continue
        ff = by.get((r.workload, "ffmpeg"))
        gif = r.workload.endswith("-gif")
        ref = by.get((r.workload, "gifski")) if gif else ff
        limit = 1.5 if gif else 1.2
        if ff is None:
            r.note = "no ffmpeg row to compare with"
            continue
        checks = [(f"time<={limit}x", r.seconds <= limit * ff.seconds)]
        if ref is not None:
            checks += [
                ("ssim", r.ssim_mean >= ref.ssim_mean),
                ("bytes", r.bytes <= ref.bytes),
            ]
        failed = [name for name, ok in checks if not ok]
        r.note = "MET" if not failed else "NOT MET: " + ", ".join(failed)
        if ref is None:
            r.note += f" (time only: no gifski row; time {r.seconds / ff.seconds:.2f}x ffmpeg)"
            continue
        r.note += (
            f" (vs {'gifski' if gif else 'ffmpeg'}: ssim {r.ssim_mean - ref.ssim_mean:+.4f}, "
            f"bytes {100 * (r.bytes / ref.bytes - 1):+.1f}%, "
            f"time {r.seconds / ff.seconds:.2f}x ffmpeg)"
        )
