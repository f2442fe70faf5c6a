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
