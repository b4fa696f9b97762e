"""A YAML document parsed with PyYAML's safe loader, and every key it repeats.

PyYAML keeps the last of two equal keys without a word (``priority: 15`` then ``priority: 5`` is
5; a second ``tasks:`` drops the first list), so the composed nodes are walked for repeated keys,
each reported with the path to its mapping, before PyYAML's constructor builds the document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

# libyaml's parser where PyYAML has it, with the same safe constructor.
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
        duplicates: list[DuplicateKey] = []
        _find_duplicates(node, (), duplicates, set())
        return loader.construct_document(node), sorted(duplicates, key=lambda d: d.line)
    except RecursionError:
        # libyaml refuses such depth itself; the pure-Python parser leaves it to the stack.
        raise yaml.YAMLError("the document is nested too deeply") from None
    finally:
        loader.dispose()


def _find_duplicates(
    node: yaml.Node, path: tuple[str | int, ...], found: list[DuplicateKey], seen: set[int]
) -> None:
    if id(node) in seen:  # an alias: its node was walked at the anchor (and may recurse)
        return
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _find_duplicates(item, (*path, index), found, seen)
    elif isinstance(node, yaml.MappingNode):
        first: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue  # `<<: *defaults` may be overridden; complex keys PyYAML refuses
            # `1:` and `'1':` are different keys: the resolved tag is part of the identity.
            identity, line = (key_node.tag, key_node.value), key_node.start_mark.line + 1
            if identity in first:
                found.append(DuplicateKey(path, key_node.value, line, first[identity]))
            else:
                first[identity] = line
            _find_duplicates(value_node, (*path, key_node.value), found, seen)
