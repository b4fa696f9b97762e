"""A YAML document parsed with libyaml when available, and every key it repeats.

PyYAML keeps the last of two equal keys in a mapping without a word, so ``priority: 15`` then
``priority: 5`` is priority 5, and a second top-level ``tasks:`` drops the first list. Overriding
``construct_mapping`` would catch that, but it raises at the first duplicate (one error for the
whole file) and knows nothing of where it is. Instead the text is composed into nodes once (by
libyaml's C parser when PyYAML has it), and one walk over the nodes both finds the repeated keys
(with their paths and lines) and builds the plain mappings, lists and strings a task file is
made of; every other scalar (numbers, booleans, null, dates) is PyYAML's own constructor's work.
Anchors, merge keys and explicit tags go through PyYAML's constructor whole (the walk still
finds the repeated keys). At 1,000 tasks the one walk costs about half of a walk for repeated
keys plus PyYAML's construction, which it replaces.
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
        walk = _Walk(loader)
        document = walk.run(node)
        if not walk.plain:
            document = loader.construct_document(node)
        return document, sorted(walk.duplicates, key=lambda d: d.line)
    finally:
        loader.dispose()


_KeyPath = tuple[str | int, ...]  # from the root to a node: ("tasks", 0, "params")


class _Walk:
    """One walk over the nodes: every repeated key, and the document while it stays plain.

    Plain is mappings, lists and scalars. An anchor used twice, a merge key, a complex key or
    an explicit collection tag makes it not plain: the walk then only looks for repeated keys,
    and PyYAML's constructor builds the document. Iterative, with each container created in
    its parent's order and filled later, so a deeply nested document cannot overflow the stack.
    """

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.duplicates: list[DuplicateKey] = []
        self.plain = True
        self._seen: set[int] = set()
        self._to_fill: list[tuple[yaml.Node, _KeyPath, Any]] = []

    def run(self, root: yaml.Node) -> Any:
        """The document when plain (else None), with ``duplicates`` filled either way."""
        document = self._start(root, ())
        while self._to_fill:
            node, path, container = self._to_fill.pop()
            if isinstance(node, yaml.SequenceNode):
                for i, item in enumerate(node.value):
                    value = self._start(item, (*path, i))
                    if self.plain:
                        container.append(value)
            else:
                self._fill_mapping(node, path, container)
        return document if self.plain else None

    def _start(self, node: yaml.Node, path: _KeyPath) -> Any:
        """A scalar's value, or an empty container queued to be filled (None once not plain)."""
        # Aliases share nodes: each is walked once, and a recursive alias cannot loop.
        if id(node) in self._seen:
            self.plain = False  # PyYAML shares one object between an anchor's uses
            return None
        self._seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node) if self.plain else None
        is_sequence = isinstance(node, yaml.SequenceNode)
        if node.tag != (_SEQ_TAG if is_sequence else _MAP_TAG):
            self.plain = False  # an explicit tag (!!set, !!omap): PyYAML knows what it builds
        container: Any = [] if is_sequence else {}
        self._to_fill.append((node, path, container))
        return container

    def _fill_mapping(self, node: yaml.Node, path: _KeyPath, mapping: dict[Any, Any]) -> None:
        first: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            # `<<: *defaults` merges (its keys may be overridden); complex keys PyYAML refuses.
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                self.plain = False
                continue
            key, line = str(key_node.value), key_node.start_mark.line + 1
            # `1:` and `'1':` are different keys: the resolved tag is part of the identity.
            identity = (key_node.tag, key)
            if identity in first:
                self.duplicates.append(DuplicateKey(path, key, line, first[identity]))
            else:
                first[identity] = line
            value = self._start(value_node, (*path, key))
            if self.plain:
                mapping[self._scalar(key_node)] = value

    def _scalar(self, node: yaml.Node) -> Any:
        return node.value if node.tag == _STR_TAG else self.loader.construct_object(node)
