"""A YAML document parsed with libyaml when available, and every key it repeats.

PyYAML keeps the last of two equal keys in a mapping without a word, so ``priority: 15`` then
``priority: 5`` is priority 5, and a second top-level ``tasks:`` drops the first list. Overriding
``construct_mapping`` would catch that, but it raises at the first duplicate (one error for the
whole file) and knows nothing of where it is. Instead the text is composed into nodes once (by
libyaml's C parser when PyYAML has it), the node tree is walked for repeated keys with their
paths and lines, and the same nodes are then constructed: one parse, a walk over the nodes, and
libyaml's speed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

# CSafeLoader is libyaml's parser with the same (Python) SafeConstructor; not a SafeLoader subclass.
Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class DuplicateKey:
    """A key written twice in one mapping; ``path`` leads to the mapping (``("tasks", 0)``)."""

    path: tuple[str | int, ...]
    key: str
    line: int
    first_line: int

    @property
    def reason(self) -> str:
        return f"duplicate key {self.key!r} at line {self.line} (first at line {self.first_line})"


def parse_document(text: str) -> tuple[Any, list[DuplicateKey]]:
    """The document in ``text`` (None when empty) and its repeated keys; YAMLError if invalid."""
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        duplicates = duplicate_keys(node)
        return loader.construct_document(node), duplicates
    finally:
        loader.dispose()


def duplicate_keys(root: yaml.Node) -> list[DuplicateKey]:
    """Every key that repeats an earlier key of the same mapping, in document order."""
    found: list[DuplicateKey] = []
    seen_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        # Aliases share nodes: each is walked once, and a recursive alias cannot loop.
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, i)) for i, item in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            first: dict[tuple[str, str], int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:  # `<<: *defaults` merges; its keys may be overridden
                    continue
                if not isinstance(key_node, yaml.ScalarNode):  # complex keys: PyYAML refuses them
                    continue
                key = str(key_node.value)
                line = key_node.start_mark.line + 1
                # `1:` and `'1':` are different keys: the resolved tag is part of the identity.
                identity = (key_node.tag, key)
                if identity in first:
                    found.append(DuplicateKey(path, key, line, first[identity]))
                else:
                    first[identity] = line
                stack.append((value_node, (*path, key)))
    return sorted(found, key=lambda d: d.line)
