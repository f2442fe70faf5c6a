"""The names of the zero-cost proxies, apart from :mod:`surrogate_nas.proxies` so that naming
feature columns never imports torch."""

PROXY_NAMES: tuple[str, ...] = (
    "synflow", "nwot", "jacov", "epe_nas", "l2_norm", "zen", "grad_norm", "snip", "plain", "fisher", "grasp",
)  # fmt: skip
"""Every proxy :func:`surrogate_nas.proxies.compute_proxies` knows, in the column order of the shipped files."""
