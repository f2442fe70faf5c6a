"""The two ends every search plot shares: a headless figure, and saving it."""

from __future__ import annotations


def new_axes(ax=None, figsize=(6, 4)):
    """``ax`` itself, or fresh axes on a non-interactive (Agg) figure."""
    if ax is not None:
        return ax
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def finish(ax, path=None):
    """Legend and grid; save to ``path`` when given; return ``ax``."""
    ax.legend()
    ax.grid(alpha=0.3)
    if path is not None:
        ax.figure.tight_layout()
        ax.figure.savefig(path, dpi=120)
    return ax


def plot_rungs(frame, path=None, ax=None):
    """A multi-fidelity search's results: value against cumulative cost, one colour per rung."""
    ax = new_axes(ax)
    for fidelity, group in frame.groupby("fidelity", sort=True):
        label = "full" if fidelity >= 1 else f"fidelity {fidelity:.3g}"
        ax.scatter(group["cum_cost_s"], group["value"], s=14, label=f"{label} ({len(group)})")
    ax.set_xlabel("cumulative training cost (s)")
    ax.set_ylabel("value")
    ax.set_title("results per rung")
    return finish(ax, path)
