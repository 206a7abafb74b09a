#!/usr/bin/env python3
"""Parses Swift files with tree-sitter-swift and fails on any ERROR or MISSING node.

No Swift compiler runs on Linux CI here; this catches syntax errors (unbalanced braces, broken expressions,
bad declarations) in the hand-written and generated Swift. Usage: check_swift.py FILE...
"""

import re
import sys

import tree_sitter_swift
from tree_sitter import Language, Parser


# uniffi wraps a documentation attribute in a compiler-version check before declarations. Swift accepts an
# attribute inside `#if`, tree-sitter-swift's grammar does not; blank out exactly that 3-line shape (keeping
# line numbers) so the rest of the file is still checked.
GATED_ATTRIBUTE = re.compile(
    rb"^[ \t]*#if swift\(>=5\.8\)[ \t]*\n[ \t]*@_documentation\(visibility: *private\)[ \t]*\n[ \t]*#endif[ \t]*$",
    re.MULTILINE,
)


# A closure whose body is the empty tuple, `{ () }` (uniffi's `writeReturn` for Void), is valid Swift that the
# grammar reads as a parameter clause. Replace it with a same-length closure of the same shape, `{ [] }`.
EMPTY_TUPLE_CLOSURE = re.compile(rb"\{ \(\) \}")


def without_grammar_gaps(source):
    """`source` with the two shapes above neutralised, line and column numbers unchanged."""
    source = GATED_ATTRIBUTE.sub(lambda m: b"\n" * m.group(0).count(b"\n"), source)
    return EMPTY_TUPLE_CLOSURE.sub(b"{ [] }", source)


def problems(tree):
    """Yields (kind, row, column) for every ERROR or MISSING node."""
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR":
            yield ("syntax error", node.start_point[0] + 1, node.start_point[1] + 1)
        elif node.is_missing:
            yield (f"missing {node.type!r}", node.start_point[0] + 1, node.start_point[1] + 1)
        if node.has_error:
            stack.extend(node.children)


def main(paths):
    parser = Parser(Language(tree_sitter_swift.language()))
    failed = 0
    for path in paths:
        with open(path, "rb") as f:
            tree = parser.parse(without_grammar_gaps(f.read()))
        found = list(problems(tree))
        for kind, row, col in found:
            print(f"{path}:{row}:{col}: {kind}", file=sys.stderr)
        failed += bool(found)
    print(f"swift-parse: {len(paths) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
