"""A benchmark's chart: for each headline figure, a bar for ours beside a bar for its baseline, the target dashed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from bench.headlines import Headline

OURS, BASELINE, MISSED, TARGET = "#2f7ed8", "#9aa5b1", "#d9534f", "#333333"


def write_chart(path: Path, name: str, headlines: tuple[Headline, ...], result: dict[str, Any]) -> None:
    """One panel per headline (each has its own unit), ours red when it missed its target."""
    fig, axes = plt.subplots(1, len(headlines), figsize=(3.2 * len(headlines), 3.4), squeeze=False)
    for ax, headline in zip(axes[0], headlines, strict=True):
        ours, base, goal = headline.ours(result), headline.base(result), headline.goal(result)
        labels, values, colours = ["ours"], [_number(ours)], [MISSED if headline.met(result) is False else OURS]
        if headline.baseline:
            labels.append(_short(headline.baseline))
            values.append(_number(base))
            colours.append(BASELINE)
        bars = ax.bar(labels, values, color=colours)
        for bar, raw in zip(bars, [ours, base] if headline.baseline else [ours], strict=True):
            ax.annotate("missing" if raw is None else f"{raw:g}" if isinstance(raw, int | float) else str(raw),
                        (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom", fontsize=8)
        if goal is not None:
            ax.axhline(goal, color=TARGET, linestyle="--", linewidth=1, label=f"target {headline.target}")
            ax.legend(fontsize=7, loc="lower right")
        ax.set_title(_short(headline.key), fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.margins(y=0.15)
    fig.suptitle(f"bench {name}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _number(value: Any) -> float:
    """A bar's height: booleans as 1/0, a missing or non-numeric value as 0 (its label says what it was)."""
    return float(value) if isinstance(value, int | float) else 0.0


def _short(key: str) -> str:
    return key if len(key) <= 28 else "…" + key[-27:]
