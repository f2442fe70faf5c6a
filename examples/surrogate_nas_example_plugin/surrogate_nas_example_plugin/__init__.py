"""An example surrogate-nas plug-in package (see the README's "Write a plug-in").

Each module holds one plug-in; ``pyproject.toml`` declares them as entry points, which is all
surrogate-nas needs to find them by name (``--space mlp --strategy fewest-params``).
"""

__version__ = "0.1.0"
