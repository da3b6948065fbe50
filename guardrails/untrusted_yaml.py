"""YAML from people: policy drafts and eval suites, parsed within limits.

A draft is typed by a user or uploaded, so it is hostile until checked: it may be huge, or small and made of
aliases that expand to millions of values (the "billion laughs"). ``load`` refuses both before anything walks
the expanded data, and its errors never quote the input.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_CHARS = 200_000
"""A policy or suite larger than this is refused (the shipped ones are under 40,000 characters)."""
MAX_VALUES = 100_000
"""The most values a document may expand to, aliases followed (the shipped ones have under 5,000)."""


class TooLarge(ValueError):
    """The text is over a limit; the message says which, in one sentence."""


def load(text: str, max_chars: int = MAX_CHARS, max_values: int = MAX_VALUES) -> Any:
    """``yaml.safe_load`` of ``text`` within the limits; raises ``TooLarge`` or ``yaml.YAMLError``."""
    if len(text) > max_chars:
        raise TooLarge(f"it has {len(text):,} characters; the limit is {max_chars:,}")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is None:
            return None
        if expanded_size(root, max_values) > max_values:
            raise TooLarge(f"its aliases expand to more than {max_values:,} values; write the values out instead")
        return yaml.safe_load(text)
    except RecursionError:
        raise TooLarge("it is nested too deeply") from None


def expanded_size(root: yaml.Node, cap: int) -> int:
    """How many nodes the document has once every alias is followed, counted without expanding it (a shared
    node's size is computed once) and stopping past ``cap``; a node that contains itself counts as past it."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            return cap + 1
        open_nodes.add(key)
        total = 1
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        for child in children:
            total += size(child)
            if total > cap:
                break
        open_nodes.discard(key)
        sizes[key] = min(total, cap + 1)
        return sizes[key]

    return size(root)
