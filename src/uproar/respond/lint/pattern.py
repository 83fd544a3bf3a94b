"""A parse tree of a regular expression, for the prefilter to read its required literals.

The standard library's own parser (``re._parser``) is private; this is a public, small
equivalent of it, for the syntax Python's ``re`` accepts. It builds the same tree as that
parser does, down to its rewrites (a non-capturing group without flags is spliced into its
parent, the common prefix of an alternation's branches moves out in front, an alternation
of single characters becomes a class, a class of one character is that character), so the
prefilter derives the same literals from it. Nodes are ``(op, argument)`` pairs named as
the standard library names them: LITERAL (a code point), IN (a class: a list of LITERAL,
RANGE, NEGATE and CATEGORY items), SUBPATTERN ``(group, add_flags, del_flags, items)``,
BRANCH ``(None, [items, ...])``, MAX_REPEAT / MIN_REPEAT / POSSESSIVE_REPEAT ``(min, max,
items)``, and nodes that say nothing of a match's text (AT, ANY, NOT_LITERAL, ASSERT,
ASSERT_NOT, GROUPREF, GROUPREF_EXISTS, ATOMIC_GROUP). ``PatternError`` is raised for what
``re`` would refuse, and for the little it accepts that this does not read.
"""

from __future__ import annotations

import unicodedata
from typing import Any

MAXREPEAT = 2**32 - 1  # "no upper bound", as the standard library writes it
Node = tuple[str, Any]

_DIGITS = frozenset("0123456789")
_OCT = frozenset("01234567")
_HEX = frozenset("0123456789abcdefABCDEF")
_FLAGS = frozenset("aiLmsux")
_ESCAPES = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92}
_CATEGORIES = {
    "d": "CATEGORY_DIGIT",
    "D": "CATEGORY_NOT_DIGIT",
    "s": "CATEGORY_SPACE",
    "S": "CATEGORY_NOT_SPACE",
    "w": "CATEGORY_WORD",
    "W": "CATEGORY_NOT_WORD",
}
_AT = {"A": "AT_BEGINNING_STRING", "Z": "AT_END_STRING", "b": "AT_BOUNDARY"}
_AT["B"] = "AT_NON_BOUNDARY"
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
_NESTED = frozenset(
    ("SUBPATTERN", "BRANCH", "ASSERT", "ASSERT_NOT", "ATOMIC_GROUP", "GROUPREF_EXISTS", *_REPEATS)
)


class PatternError(ValueError):
    """The pattern is not one this parser reads (nor, mostly, one ``re`` compiles)."""


def parse(pattern: str) -> list[Node]:
    """The parse tree of ``pattern``: a list of nodes, as ``re._parser.parse`` returns."""
    source = _Source(pattern)
    items = _alternation(source, nested=0)
    if source.at < len(pattern):
        raise PatternError(f"unbalanced parenthesis at position {source.at}")
    return items


class _Source:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.groups = 0
        self.names: dict[str, int] = {}
        self.closed: set[int] = set()

    def refer(self, group: int) -> int:
        """A back-reference, to a group that is defined and closed (as ``re`` insists)."""
        if group not in self.closed:
            raise PatternError("invalid group reference")
        return group

    @property
    def next(self) -> str | None:
        return self.text[self.at] if self.at < len(self.text) else None

    def get(self) -> str:
        if self.at >= len(self.text):
            raise PatternError("unexpected end of pattern")
        char = self.text[self.at]
        self.at += 1
        return char

    def match(self, char: str) -> bool:
        if self.next == char:
            self.at += 1
            return True
        return False

    def until(self, terminator: str) -> str:
        end = self.text.find(terminator, self.at)
        if end < 0:
            raise PatternError(f"missing {terminator!r}")
        out = self.text[self.at : end]
        self.at = end + 1
        return out


def _alternation(source: _Source, nested: int) -> list[Node]:
    """``a|b|c`` up to the closing parenthesis, rewritten as the standard library does."""
    branches = [_sequence(source, nested)]
    while source.match("|"):
        branches.append(_sequence(source, nested))
    if nested == 0 and source.next == ")":
        raise PatternError(f"unbalanced parenthesis at position {source.at}")
    if len(branches) == 1:
        return branches[0]
    out: list[Node] = []
    while all(branches) and all(_same(b[0], branches[0][0]) for b in branches[1:]):
        out.append(branches[0][0])
        for b in branches:
            del b[0]
    chars: list[Any] = []
    for b in branches:
        if len(b) != 1:
            break
        op, arg = b[0]
        if op == "LITERAL":
            chars.append((op, arg))
        elif op == "IN" and arg[0][0] != "NEGATE":
            chars.extend(arg)
        else:
            break
    else:
        out.append(("IN", _unique(chars)))
        return out
    out.append(("BRANCH", (None, branches)))
    return out


def _same(a: Node, b: Node) -> bool:
    """Whether two branches start alike, as the standard library judges it: by value for a
    character, class or anchor; a node holding a sub-pattern only equals itself."""
    if a[0] in _NESTED or b[0] in _NESTED:
        return a is b
    return a == b


def _unique(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def _sequence(source: _Source, nested: int) -> list[Node]:
    items: list[Node] = []
    while source.next is not None and source.next not in "|)":
        char = source.get()
        if char == "\\":
            items.append(_escape(source))
        elif char == "[":
            items.append(_class(source))
        elif char == ".":
            items.append(("ANY", None))
        elif char == "^":
            items.append(("AT", "AT_BEGINNING"))
        elif char == "$":
            items.append(("AT", "AT_END"))
        elif char in "*+?{":
            bounds = _bounds(source, char)
            if bounds is None:
                items.append(("LITERAL", ord(char)))
                continue
            if not items or items[-1][0] == "AT":
                raise PatternError("nothing to repeat")
            if items[-1][0] in _REPEATS:
                raise PatternError("multiple repeat")
            last = items.pop()
            sub = [last]
            if last[0] == "SUBPATTERN" and last[1][0] is None and not any(last[1][1:3]):
                sub = last[1][3]
            op = "MIN_REPEAT" if source.match("?") else "MAX_REPEAT"
            if op == "MAX_REPEAT" and source.match("+"):
                op = "POSSESSIVE_REPEAT"
            items.append((op, (bounds[0], bounds[1], sub)))
        elif char == "(":
            group = _group(source, nested, at_start=not items and nested == 0)
            if group is not None:
                items.append(group)
        else:
            items.append(("LITERAL", ord(char)))
    # A non-capturing group without flags is spliced into its parent.
    out: list[Node] = []
    for op, arg in items:
        if op == "SUBPATTERN" and arg[0] is None and not arg[1] and not arg[2]:
            out.extend(arg[3])
        else:
            out.append((op, arg))
    return out


def _bounds(source: _Source, char: str) -> tuple[int, int] | None:
    """A quantifier's (min, max), or None where ``{`` is a plain character."""
    if char == "*":
        return 0, MAXREPEAT
    if char == "+":
        return 1, MAXREPEAT
    if char == "?":
        return 0, 1
    here = source.at
    if source.next == "}":
        return None
    lo = hi = ""
    while source.next is not None and source.next in _DIGITS:
        lo += source.get()
    if source.match(","):
        while source.next is not None and source.next in _DIGITS:
            hi += source.get()
    else:
        hi = lo
    if not source.match("}"):
        source.at = here
        return None
    low = int(lo) if lo else 0
    high = int(hi) if hi else MAXREPEAT
    if high < low:
        raise PatternError("min repeat greater than max repeat")
    return low, high


def _group(source: _Source, nested: int, *, at_start: bool) -> Node | None:
    add = remove = ""
    name: int | None = None
    if source.match("?"):
        char = source.get()
        if char == ":":
            pass
        elif char == "P":
            if source.match("<"):
                label = source.until(">")
                if not label.isidentifier() or label in source.names:
                    raise PatternError(f"bad group name {label!r}")
                source.groups += 1
                name = source.names[label] = source.groups
            elif source.match("="):
                label = source.until(")")
                if label not in source.names:
                    raise PatternError(f"unknown group name {label!r}")
                return ("GROUPREF", source.refer(source.names[label]))
            else:
                raise PatternError("unknown extension ?P")
        elif char in "=!":
            items = _alternation(source, nested + 1)
            _close(source)
            return ("ASSERT" if char == "=" else "ASSERT_NOT", (1, items))
        elif char == "<":
            kind = source.get()
            if kind not in "=!":
                raise PatternError("unknown extension ?<")
            items = _alternation(source, nested + 1)
            _close(source)
            return ("ASSERT" if kind == "=" else "ASSERT_NOT", (-1, items))
        elif char == "#":
            source.until(")")
            return None
        elif char == "(":
            source.until(")")
            items = _alternation(source, nested + 1)
            _close(source)
            return ("GROUPREF_EXISTS", items)
        elif char == ">":
            items = _alternation(source, nested + 1)
            _close(source)
            return ("ATOMIC_GROUP", items)
        elif char in _FLAGS or char == "-":
            source.at -= 1
            while source.next is not None and source.next in _FLAGS:
                add += source.get()
            if source.match("-"):
                while source.next is not None and source.next in _FLAGS:
                    remove += source.get()
            if "x" in add:
                raise PatternError("verbose patterns are not read")
            if source.match(")"):
                if remove or not at_start:
                    raise PatternError("global flags not at the start of the expression")
                return None  # global flags: case is lower-cased away, the rest says nothing
            if not source.match(":"):
                raise PatternError("missing :")
        else:
            raise PatternError(f"unknown extension ?{char}")
    else:
        source.groups += 1
        name = source.groups
    items = _alternation(source, nested + 1)
    _close(source)
    if name is not None:
        source.closed.add(name)
    return ("SUBPATTERN", (name, add, remove, items))


def _close(source: _Source) -> None:
    if not source.match(")"):
        raise PatternError("missing ), unterminated subpattern")


def _escape(source: _Source) -> Node:
    char = source.get()
    if char in _AT:
        return ("AT", _AT[char])
    if char in _CATEGORIES:
        return ("IN", [("CATEGORY", _CATEGORIES[char])])
    code = _code_escape(source, char)
    if code is not None:
        return ("LITERAL", code)
    if char in _DIGITS:
        # \1 to \99 name a group (three octal digits, above, are a character).
        if source.next is not None and source.next in _DIGITS:
            char += source.get()
        return ("GROUPREF", source.refer(int(char)))
    raise PatternError(f"bad escape \\{char}")


def _code_escape(source: _Source, char: str) -> int | None:
    """The code point of an escape that stands for one character, or None."""
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char in "xuU":
        width = {"x": 2, "u": 4, "U": 8}[char]
        digits = source.text[source.at : source.at + width]
        if len(digits) != width or not set(digits) <= _HEX:
            raise PatternError(f"incomplete escape \\{char}{digits}")
        source.at += width
        code = int(digits, 16)
        if code > 0x10FFFF:
            raise PatternError("bad escape: code point out of range")
        return code
    if char == "N":
        if not source.match("{"):
            raise PatternError("missing {")
        try:
            return ord(unicodedata.lookup(source.until("}")))
        except KeyError as exc:
            raise PatternError("undefined character name") from exc
    if char == "0" or (
        char in _OCT
        and source.text[source.at : source.at + 2].isdigit()
        and set(source.text[source.at : source.at + 2]) <= _OCT
    ):
        digits = char
        while len(digits) < 3 and source.next is not None and source.next in _OCT:
            digits += source.get()
        code = int(digits, 8)
        if code > 0o377:
            raise PatternError("octal escape value outside of range 0-0o377")
        return code
    if char.isascii() and char.isalnum():
        return None
    return ord(char)


def _class(source: _Source) -> Node:
    """A ``[...]`` class; a class of one character is that character."""
    items: list[Any] = []
    negate = source.match("^")
    first = True
    while True:
        char = source.get()
        if char == "]" and not first:
            break
        first = False
        low = _class_char(source, char)
        if source.next == "-" and source.text[source.at + 1 : source.at + 2] not in ("]", ""):
            source.get()
            end = source.get()
            high = _class_char(source, end)
            if not isinstance(low, int) or not isinstance(high, int):
                raise PatternError("bad character range")
            if high < low:
                raise PatternError("bad character range")
            items.append(("RANGE", (low, high)))
        elif isinstance(low, int):
            items.append(("LITERAL", low))
        else:
            items.append(low)
    items = _unique(items)
    if len(items) == 1 and items[0][0] == "LITERAL":
        return ("NOT_LITERAL", items[0][1]) if negate else items[0]
    return ("IN", [("NEGATE", None), *items] if negate else items)


def _class_char(source: _Source, char: str) -> int | tuple[str, str]:
    """A class member: a code point, or a category item for ``\\d`` and the like."""
    if char != "\\":
        return ord(char)
    escaped = source.get()
    if escaped in _CATEGORIES:
        return ("CATEGORY", _CATEGORIES[escaped])
    if escaped == "b":
        return 8  # backspace, inside a class
    if escaped in _OCT:  # one to three octal digits, inside a class
        digits = escaped
        while len(digits) < 3 and source.next is not None and source.next in _OCT:
            digits += source.get()
        if int(digits, 8) > 0o377:
            raise PatternError("octal escape value outside of range 0-0o377")
        return int(digits, 8)
    code = _code_escape(source, escaped)
    if code is None:
        raise PatternError(f"bad escape \\{escaped}")
    return code
