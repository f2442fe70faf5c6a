"""Search spaces behind one interface (:class:`SearchSpace`), and their registry.

    >>> from surrogate_nas.spaces import get_space
    >>> space = get_space("nb201")
    >>> arch = space.sample_unseen(1, __import__("numpy").random.default_rng(0))[0]
    >>> space.parse(space.format(arch)) == arch
    True
"""

from surrogate_nas.spaces.base import STANDARD_FEATURES, Architecture, FeatureCache, SearchSpace
from surrogate_nas.spaces.choices import ChoiceSpace, Choices
from surrogate_nas.spaces.registry import DEFAULT_SPACE, SPACE_PLUGINS, SPACES, get_space, register_space

__all__ = [
    "DEFAULT_SPACE",
    "SPACES",
    "SPACE_PLUGINS",
    "STANDARD_FEATURES",
    "Architecture",
    "ChoiceSpace",
    "Choices",
    "FeatureCache",
    "SearchSpace",
    "get_space",
    "register_space",
]
