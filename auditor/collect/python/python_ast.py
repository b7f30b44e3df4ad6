"""Small readings of Python syntax trees shared by the readers of Python source (never run)."""

from __future__ import annotations

import ast
from typing import Optional


def dotted(node: ast.AST) -> Optional[str]:
    """'a.b.c' for a name or a chain of attributes on a name; None for anything else (a call, a subscript …)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None
