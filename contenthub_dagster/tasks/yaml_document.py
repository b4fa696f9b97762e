"""A YAML document parsed with libyaml when available, and every key it repeats.

PyYAML keeps the last of two equal keys in a mapping without a word, so ``priority: 15`` then
``priority: 5`` is priority 5, and a second top-level ``tasks:`` drops the first list. Overriding
``construct_mapping`` would catch that, but it raises at the first duplicate (one error for the
whole file) and knows nothing of where it is. Instead the text is composed into nodes once (by
libyaml's C parser when PyYAML has it), and one walk over the nodes both finds the repeated keys
(with their paths and lines) and builds the plain mappings, lists and strings a task file is
made of; every other scalar (numbers, booleans, null, dates) is PyYAML's own constructor's work.
Anchors, merge keys and explicit tags go through PyYAML's constructor whole. At 1,000 tasks the
one walk costs about half of the node walk plus PyYAML's construction it replaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

# CSafeLoader is libyaml's parser with the same (Python) SafeConstructor; not a SafeLoader subclass.
Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"


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
        walk = _PlainWalk(loader)
        try:
            document = walk.construct(node, ())
        except (_NotPlainError, RecursionError):
            pass  # PyYAML's constructor, outside this handler so its errors chain to nothing
        else:
            return document, sorted(walk.duplicates, key=lambda d: d.line)
        duplicates = duplicate_keys(node)
        return loader.construct_document(node), duplicates
    finally:
        loader.dispose()


class _NotPlainError(Exception):
    """The document uses an anchor, a merge key or a tag the plain walk leaves to PyYAML."""


class _PlainWalk:
    """Builds a document of plain mappings, lists and scalars, noting repeated keys on the way."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.duplicates: list[DuplicateKey] = []
        self.seen: set[int] = set()

    def construct(self, node: yaml.Node, path: tuple[str | int, ...]) -> Any:
        if id(node) in self.seen:  # an alias: PyYAML shares one object between its uses
            raise _NotPlainError
        self.seen.add(id(node))
        tag = node.tag
        if isinstance(node, yaml.ScalarNode):
            return node.value if tag == _STR_TAG else self.loader.construct_object(node)
        if isinstance(node, yaml.SequenceNode) and tag == _SEQ_TAG:
            return [self.construct(item, (*path, i)) for i, item in enumerate(node.value)]
        if not isinstance(node, yaml.MappingNode) or tag != _MAP_TAG:
            raise _NotPlainError
        mapping: dict[Any, Any] = {}
        first: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                raise _NotPlainError
            key = self.construct(key_node, path)
            text, line = str(key_node.value), key_node.start_mark.line + 1
            # `1:` and `'1':` are different keys: the resolved tag is part of the identity.
            identity = (key_node.tag, text)
            if identity in first:
                self.duplicates.append(DuplicateKey(path, text, line, first[identity]))
            else:
                first[identity] = line
            mapping[key] = self.construct(value_node, (*path, text))
        return mapping


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
