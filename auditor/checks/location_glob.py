"""Location globs of waivers: `*` and `?` inside one path segment, `**` across segments, `[...]` classes."""

from __future__ import annotations

from typing import NamedTuple


class _CharClass(NamedTuple):
    negated: bool  # [!...]
    ranges: list[tuple[str, str]]  # (low, high), inclusive; a single character is (c, c)


# (kind, argument): the character of "char", the class of "class", None for the others
_Token = tuple[str, "str | _CharClass | None"]


class PathGlob:
    """A location glob: `*` and `?` stay inside one path segment, `**` spans any number of segments, `[...]` is
    a character class (`[!...]` negated). A pattern that does not start with `/` or `**` may match from any
    directory boundary, so `legacy/.venv/**` matches the same tree wherever it is checked out. ValueError for a
    class with a range backwards ([z-a]).

    Matched by moving every state of the pattern along the path at once, in time path length × pattern length:
    as a regular expression, `*a*a*a*a*b` backtracked for half a minute on a 300-character path."""

    def __init__(self, pattern: str) -> None:
        self._moves: dict[tuple[frozenset[int], str], frozenset[int]] = {}
        # ("dirs", "dirs-more") is `(?:.*/)?`: nothing, or anything up to a "/"
        self.tokens: list[_Token] = [] if pattern.startswith(("/", "**")) else [("dirs", None), ("dirs-more", None)]
        i, last_bracket = 0, pattern.rfind("]")
        while i < len(pattern):
            if pattern.startswith("**/", i):
                self.tokens += [("dirs", None), ("dirs-more", None)]
                i += 3
            elif pattern.startswith("**", i):
                self.tokens.append(("any", None))
                i += 2
            elif pattern[i] in "*?":
                self.tokens.append(("star" if pattern[i] == "*" else "one", None))
                i += 1
            elif pattern[i] == "[" and last_bracket >= i + 2:
                end = pattern.index("]", i + 2)
                self.tokens.append(("class", _char_class(pattern[i + 1:end])))
                i = end + 1
            else:
                self.tokens.append(("char", pattern[i]))
                i += 1

    def fullmatch(self, path: str) -> bool:
        states = self._closure({0})
        if len(self._moves) > 10_000:  # the moves seen are kept: paths of one report share most of them
            self._moves.clear()
        for char in path:
            following = self._moves.get((states, char))
            if following is None:
                following = self._moves[states, char] = self._closure(
                    {after for state in states for after in self._step(state, char)})
            states = following
            if not states:
                return False
        return len(self.tokens) in states

    def _step(self, k: int, char: str) -> tuple[int, ...]:
        if k == len(self.tokens):
            return ()
        kind, arg = self.tokens[k]
        if kind in ("star", "any"):
            return (k,) if kind == "any" or char != "/" else ()
        if kind == "dirs":
            return (k + 1, k + 2) if char == "/" else (k + 1,)
        if kind == "dirs-more":
            return (k, k + 1) if char == "/" else (k,)
        if kind == "char":
            matched = char == arg
        elif kind == "one":
            matched = char != "/"
        else:
            assert isinstance(arg, _CharClass)  # the only other kind: "class"
            matched = arg.negated != any(low <= char <= high for low, high in arg.ranges)
        return (k + 1,) if matched else ()

    def _closure(self, states: set[int]) -> frozenset[int]:
        """The states reachable without reading a character: past a `*`, a `**`, or an empty run of directories."""
        pending = list(states)
        while pending:
            k = pending.pop()
            kind = self.tokens[k][0] if k < len(self.tokens) else None
            after = k + 2 if kind == "dirs" else k + 1 if kind in ("star", "any") else None
            if after is not None and after not in states:
                states.add(after)
                pending.append(after)
        return frozenset(states)


def _char_class(body: str) -> _CharClass:
    """(negated, ranges) of the text between [ and ]."""
    negated = body[:1] in ("!", "^") and len(body) > 1
    body = body[1:] if negated else body
    ranges: list[tuple[str, str]] = []
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            if body[i] > body[i + 2]:
                raise ValueError(f"the range {body[i]}-{body[i + 2]} in [{body}] runs backwards")
            ranges.append((body[i], body[i + 2]))
            i += 3
        else:
            ranges.append((body[i], body[i]))
            i += 1
    return _CharClass(negated, ranges)
