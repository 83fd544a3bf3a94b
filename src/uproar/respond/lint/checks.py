"""Check kinds: each turns a validated :class:`Rule` into a compiled check, once.

A check's ``run(doc)`` yields :class:`Hit` records with 0-based, end-exclusive character
offsets into the draft; the engine turns them into :class:`~uproar.records.Finding`.
Vale's kinds keep Vale's semantics where Uproar implements them (``sequence`` matches
patterns only: Uproar ships no part-of-speech tagger, so ``tag`` is rejected). Uproar's
own kinds are ``context`` (a pattern with negation and context windows) and ``facts``
(the facts a status update must state).
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias, cast

import regex

from uproar.errors import RuleError
from uproar.records import Severity
from uproar.respond.lint.prefilter import Prefilter
from uproar.respond.lint.rules import LEVELS, Rule
from uproar.respond.lint.text import Document, words_after, words_before

# ``regex`` patterns duck-type as ``re`` ones (the module ships no type stubs).
Pattern: TypeAlias = re.Pattern[str]
Spans: TypeAlias = Sequence[tuple[int, int]]
Selection: TypeAlias = Mapping[int, Spans | None]


@dataclass(frozen=True, slots=True)
class Hit:
    start: int
    end: int
    message: str
    suggestion: str | None = None
    level: Severity | None = None


def _error(rule: Rule, key: str, why: str) -> RuleError:
    return RuleError(
        f"{rule.source}: {rule.id}: key {key!r}: {why}", file=rule.source, rule=rule.id, key=key
    )


def compile_pattern(source: str, *, ignorecase: bool, rule: Rule, key: str) -> Pattern:
    """Compile with the ``regex`` module (Vale's RE2-style syntax plus variable-width
    lookbehinds; its case-insensitive matching of long alternations is about twice as fast
    as the standard library's); errors name the rule and key."""
    flags = (regex.IGNORECASE if ignorecase else 0) | regex.VERSION0
    try:
        return cast(Pattern, regex.compile(source, flags))
    except regex.error as exc:
        raise _error(rule, key, f"bad regular expression: {exc}") from exc


def alternation(tokens: Sequence[str], *, nonword: bool) -> str:
    body = "|".join(f"(?:{t})" for t in tokens)
    return f"(?:{body})" if nonword else rf"\b(?:{body})\b"


def fmt(message: str, *args: str) -> str:
    """Go-style ``%s`` and ``%[n]s`` substitution, as Vale messages use."""
    it = iter(args)

    def sub(m: re.Match[str]) -> str:
        if m.group(1):
            idx = int(m.group(1)) - 1
            return args[idx] if 0 <= idx < len(args) else ""
        return next(it, "")

    return re.sub(r"%(?:\[(\d+)\])?s", sub, message)


def _bool(rule: Rule, key: str, default: bool) -> bool:
    value = rule.spec.get(key, default)
    if not isinstance(value, bool):
        raise _error(rule, key, "expected true or false")
    return value


def _tokens(rule: Rule, key: str) -> list[str]:
    value = rule.spec.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _error(rule, key, "expected a list of non-empty strings")
    return list(value)


def _int(rule: Rule, key: str, default: int | None) -> int | None:
    value = rule.spec.get(key, default)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise _error(rule, key, "expected a non-negative integer")
    return value


class Check:
    """Base: holds the rule and the exception list shared by most kinds."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.ignorecase = _bool(rule, "ignorecase", False) if "ignorecase" in rule.spec else False
        self.exceptions: Pattern | None = None
        if "exceptions" in rule.spec:
            exc = _tokens(rule, "exceptions")
            if exc:
                self.exceptions = compile_pattern(
                    "(?:" + "|".join(f"(?:{e})" for e in exc) + r")\Z",
                    ignorecase=self.ignorecase,
                    rule=rule,
                    key="exceptions",
                )

    def excepted(self, text: str) -> bool:
        return self.exceptions is not None and self.exceptions.match(text) is not None

    def run(self, doc: Document, spans: Spans | None = None) -> Iterator[Hit]:
        """Hits in ``doc``. ``spans`` (from the engine's prefilter) limits a sentence-scoped
        rule to the sentences that could hold a match; None means all of its scope."""
        raise NotImplementedError  # pragma: no cover - abstract

    def regions(self, doc: Document, spans: Spans | None) -> Spans:
        if spans is not None:
            return spans
        if self.rule.scope == "sentence":
            return doc.sentences
        return [(0, len(doc.text))]

    def finditer(
        self, pattern: Pattern, doc: Document, spans: Spans | None
    ) -> Iterator[re.Match[str]]:
        text = doc.text
        for s, e in self.regions(doc, spans):
            yield from pattern.finditer(text, s, e)

    @property
    def gate(self) -> str | None:
        """A regex every hit of this check contains a match of, or None (always run);
        the engine's prefilter derives required literals from it."""
        return None

    @property
    def gates(self) -> list[str | None]:
        """One gate per part (a part is one token of a rule matched on its own)."""
        return [self.gate]

    def run_selected(self, doc: Document, selection: Selection | None) -> Iterator[Hit]:
        """Hits from the selected parts only (part index -> its spans, None for all of
        the rule's scope); ``selection=None`` runs every part everywhere."""
        if selection is None:
            return self.run(doc)
        return self.run(doc, selection.get(0))


def leftmost(hits: list[Hit]) -> list[Hit]:
    """Overlapping hits of one rule: keep the leftmost, and the longest of equal starts."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, h.start - h.end)):
        if not kept or hit.start >= kept[-1].end:
            kept.append(hit)
    return kept


class PartsCheck(Check):
    """A rule whose tokens are matched each on its own, so the prefilter can pick the few
    tokens that could match a draft instead of running one big alternation. Overlapping
    hits of the same rule are reduced to the leftmost (then longest)."""

    sources: list[str]
    patterns: list[Pattern]

    def compile_parts(self, sources: list[str], *, key: str) -> None:
        self.sources = sources
        self.patterns = [
            compile_pattern(src, ignorecase=self.ignorecase, rule=self.rule, key=key)
            for src in sources
        ]

    @property
    def gates(self) -> list[str | None]:
        prefix = "(?i)" if self.ignorecase else ""
        return [prefix + src for src in self.sources]

    def matches(
        self, doc: Document, selection: Selection | None
    ) -> Iterator[tuple[int, re.Match[str]]]:
        chosen = (
            selection.items()
            if selection is not None
            else [(i, None) for i in range(len(self.patterns))]
        )
        for index, spans in chosen:
            for m in self.finditer(self.patterns[index], doc, spans):
                yield index, m

    def run(self, doc: Document, spans: Spans | None = None) -> Iterator[Hit]:
        every = None if spans is None else dict.fromkeys(range(len(self.patterns)), spans)
        return self.run_selected(doc, every)

    def run_selected(self, doc: Document, selection: Selection | None) -> Iterator[Hit]:
        hits = [h for index, m in self.matches(doc, selection) if (h := self.judge(doc, index, m))]
        return iter(leftmost(hits))

    def judge(self, doc: Document, index: int, m: re.Match[str]) -> Hit | None:
        raise NotImplementedError  # pragma: no cover - abstract


class Existence(PartsCheck):
    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        nonword = _bool(rule, "nonword", False)
        if "raw" in rule.spec:
            sources = ["".join(_tokens(rule, "raw"))]
        else:
            sources = [alternation([t], nonword=nonword) for t in _tokens(rule, "tokens")]
        self.compile_parts(sources, key="tokens")

    def judge(self, doc: Document, index: int, m: re.Match[str]) -> Hit | None:
        text = m.group()
        if not text or self.excepted(text):
            return None
        return Hit(m.start(), m.end(), fmt(self.rule.message, text), self.rule.suggestion)


class Substitution(PartsCheck):
    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        swap = rule.spec.get("swap")
        if not isinstance(swap, Mapping) or not swap:
            raise _error(rule, "swap", "expected a mapping of pattern: replacement")
        self.replacements: list[str] = []
        nonword = _bool(rule, "nonword", False)
        sources = []
        for pattern, replacement in swap.items():
            if not isinstance(pattern, str) or not isinstance(replacement, str):
                raise _error(rule, "swap", f"entry {pattern!r} must map a string to a string")
            sources.append(alternation([pattern], nonword=nonword))
            self.replacements.append(replacement)
        self.sources = sources
        self.patterns = [
            compile_pattern(src, ignorecase=self.ignorecase, rule=rule, key=f"swap.{pat}")
            for src, pat in zip(sources, swap, strict=True)
        ]

    def judge(self, doc: Document, index: int, m: re.Match[str]) -> Hit | None:
        text = m.group()
        replacement = self.replacements[index]
        if not text or self.excepted(text) or replacement.lower() == text.lower():
            return None
        return Hit(m.start(), m.end(), fmt(self.rule.message, replacement, text), replacement)


def _scope_spans(doc: Document, scope: str) -> list[tuple[int, int]]:
    if scope == "sentence":
        return doc.sentences
    if scope == "paragraph":
        return doc.paragraphs
    if scope == "line":
        starts = doc.line_starts
        ends = [s - 1 for s in starts[1:]] + [len(doc.text)]
        return [(s, e) for s, e in zip(starts, ends, strict=True) if doc.text[s:e].strip()]
    return [(0, len(doc.text))] if doc.text.strip() else []


class Occurrence(Check):
    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        token = rule.spec.get("token")
        if not isinstance(token, str) or not token:
            raise _error(rule, "token", "expected a non-empty string")
        self.pattern = compile_pattern(token, ignorecase=self.ignorecase, rule=rule, key="token")
        self.max = _int(rule, "max", None)
        self.min = _int(rule, "min", None)
        if self.max is None and self.min is None:
            raise _error(rule, "max", "an occurrence rule needs max or min")

    def run(self, doc: Document, spans: Spans | None = None) -> Iterator[Hit]:
        for s, e in _scope_spans(doc, self.rule.scope):
            count = sum(1 for _ in self.pattern.finditer(doc.text, s, e))
            if (self.max is not None and count > self.max) or (
                self.min is not None and count < self.min
            ):
                yield Hit(s, e, fmt(self.rule.message, str(count)), self.rule.suggestion)


class Repetition(Check):
    """Vale's ``repetition``: the same token twice in a row (one backreference regex)."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        self.alpha = _bool(rule, "alpha", False)
        token = alternation(_tokens(rule, "tokens"), nonword=True)
        source = rf"(?<!\S)(?P<tok>{token})\s+(?P=tok)(?!\S)"
        self.pattern = compile_pattern(source, ignorecase=self.ignorecase, rule=rule, key="tokens")

    def run(self, doc: Document, spans: Spans | None = None) -> Iterator[Hit]:
        for m in self.pattern.finditer(doc.text):
            word = m.group("tok")
            if (self.alpha and not word.isalpha()) or self.excepted(word):
                continue
            second = doc.text[m.end() - len(word) : m.end()]
            yield Hit(m.start(), m.end(), fmt(self.rule.message, second), second)


class SequenceCheck(Check):
    """Vale's ``sequence`` without part-of-speech tags, compiled to one regex per rule."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        tokens = rule.spec.get("tokens")
        if not isinstance(tokens, list) or not tokens:
            raise _error(rule, "tokens", "expected a list of {pattern, negate, skip}")
        word = r"[\w'’-]+"
        gap = r"[^\w.!?\n]+"  # stay inside one sentence
        parts: list[str] = []
        for i, tok in enumerate(tokens):
            if not isinstance(tok, Mapping):
                raise _error(rule, f"tokens[{i}]", "expected a mapping")
            if "tag" in tok:
                raise _error(
                    rule, f"tokens[{i}].tag", "part-of-speech tags are not supported; use pattern"
                )
            unknown = set(tok) - {"pattern", "negate", "skip"}
            if unknown:
                raise _error(rule, f"tokens[{i}].{sorted(unknown)[0]}", "unknown key")
            pattern = tok.get("pattern")
            if not isinstance(pattern, str) or not pattern:
                raise _error(rule, f"tokens[{i}].pattern", "expected a non-empty string")
            negate, skip = tok.get("negate", False), tok.get("skip", 0)
            if not isinstance(negate, bool) or not isinstance(skip, int) or skip < 0:
                raise _error(rule, f"tokens[{i}]", "negate must be a bool and skip an int >= 0")
            core = rf"(?!(?:{pattern})\b){word}" if negate else f"(?:{pattern})"
            part = f"({core})"
            if i < len(tokens) - 1:
                part += gap + (f"(?:{word}{gap}){{0,{skip}}}" if skip else "")
            parts.append(part)
        self.source = r"\b" + "".join(parts) + r"\b"
        self.pattern = compile_pattern(
            self.source, ignorecase=self.ignorecase, rule=rule, key="tokens"
        )

    @property
    def gate(self) -> str | None:
        return ("(?i)" if self.ignorecase else "") + self.source

    def run(self, doc: Document, spans: Spans | None = None) -> Iterator[Hit]:
        for m in self.finditer(self.pattern, doc, spans):
            if self.excepted(m.group()):
                continue
            groups = [g or "" for g in m.groups()]
            msg = (
                fmt(self.rule.message, *groups)
                if "%[" in self.rule.message
                else fmt(self.rule.message, m.group())
            )
            yield Hit(m.start(), m.end(), msg, self.rule.suggestion)


_BINOPS: dict[type[ast.AST], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_FUNCS: dict[str, Callable[..., float]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "min": min,
    "max": max,
    "log": math.log,
}
_CONDITION = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


class Metric(Check):
    """Vale's ``metric``: a formula over the draft's counts, checked against a condition."""

    VARIABLES = (
        "words",
        "sentences",
        "syllables",
        "characters",
        "complex_words",
        "long_words",
        "polysyllabic_words",
        "paragraphs",
        "list",
        "pre",
        "blockquote",
    )

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        formula = rule.spec.get("formula")
        if not isinstance(formula, str):
            raise _error(rule, "formula", "expected a string")
        try:
            tree = ast.parse(formula.strip().replace("heading.", "heading_"), mode="eval")
        except SyntaxError as exc:
            raise _error(rule, "formula", f"not a formula: {exc.msg}") from exc
        self._check_node(tree.body)
        self.tree = tree.body
        self.names = frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
        condition = rule.spec.get("condition")
        m = _CONDITION.match(condition) if isinstance(condition, str) else None
        if m is None:
            raise _error(rule, "condition", "expected an operator and a number, e.g. '> 8.0'")
        self.compare = _COMPARE[m.group(1)]
        self.threshold = float(m.group(2))

    def _check_node(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return
        if isinstance(node, ast.Name):
            if node.id not in self.VARIABLES and not node.id.startswith("heading_"):
                raise _error(self.rule, "formula", f"unknown variable {node.id!r}")
            return
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            self._check_node(node.left)
            self._check_node(node.right)
            return
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            self._check_node(node.operand)
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            if node.func.id not in _FUNCS:
                raise _error(self.rule, "formula", f"unknown function {node.func.id!r}")
            for arg in node.args:
                self._check_node(arg)
            return
        raise _error(self.rule, "formula", f"unsupported expression {ast.dump(node)[:40]}")

    def _eval(self, node: ast.AST, env: Mapping[str, float]) -> float:
        if isinstance(node, ast.Constant):
            assert isinstance(node.value, int | float)
            return float(node.value)
        if isinstance(node, ast.Name):
            return env.get(node.id, 0.0)
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](self._eval(node.left, env), self._eval(node.right, env))
        if isinstance(node, ast.UnaryOp):
            value = self._eval(node.operand, env)
            return -value if isinstance(node.op, ast.USub) else value
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        return float(_FUNCS[node.func.id](*(self._eval(a, env) for a in node.args)))

    def value(self, doc: Document) -> float | None:
        env = doc.variable_env(self.names)
        if not env["words"]:
            return None
        try:
            return self._eval(self.tree, env)
        except (ZeroDivisionError, ValueError, OverflowError):
            return None

    def run(self, doc: Document, spans: Spans | None = None) -> Iterator[Hit]:
        value = self.value(doc)
        if value is not None and self.compare(value, self.threshold):
            yield Hit(
                0, len(doc.text), fmt(self.rule.message, f"{value:.2f}"), self.rule.suggestion
            )


class Capitalization(Check):
    """Vale's ``capitalization``: each unit of ``scope`` must follow ``match``."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        match = rule.spec.get("match")
        if not isinstance(match, str) or not match:
            raise _error(rule, "match", "expected $title, $sentence, $lower, $upper or a regex")
        self.match = match
        self.regex: Pattern | None = None
        if not match.startswith("$"):
            self.regex = compile_pattern(match, ignorecase=False, rule=rule, key="match")
        elif match not in ("$title", "$sentence", "$lower", "$upper"):
            raise _error(rule, "match", f"unknown style {match!r}")

    def ok(self, text: str) -> bool:
        letters = [c for c in text if c.isalpha()]
        if not letters:
            return True
        if self.regex is not None:
            return self.regex.search(text) is not None
        if self.match == "$upper":
            return all(c.isupper() for c in letters)
        if self.match == "$lower":
            return all(c.islower() for c in letters)
        words = [w for w in re.findall(r"[A-Za-z][\w'’-]*", text) if not self.excepted(w)]
        if not words:
            return True
        if self.match == "$sentence":
            return words[0][0].isupper() and all(
                not w[0].isupper() or w.isupper() or w[1:] != w[1:].lower() or i == 0
                for i, w in enumerate(words)
            )
        small = {
            "a",
            "an",
            "and",
            "as",
            "at",
            "but",
            "by",
            "for",
            "in",
            "of",
            "on",
            "or",
            "the",
            "to",
        }
        return all(w[0].isupper() or (w.lower() in small and i) for i, w in enumerate(words))

    def run(self, doc: Document, spans: Spans | None = None) -> Iterator[Hit]:
        for s, e in _scope_spans(doc, self.rule.scope):
            if not self.ok(doc.text[s:e]):
                yield Hit(s, e, fmt(self.rule.message, doc.text[s:e]), self.rule.suggestion)


class Conditional(Check):
    """Vale's ``conditional``. With a capture group in ``second`` it is Vale's check (each
    ``first`` match must be among ``second``'s captures, e.g. acronyms defined); without
    one, ``first`` anywhere requires ``second`` somewhere (e.g. hurt implies an apology)."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        first, second = rule.spec.get("first"), rule.spec.get("second")
        if not isinstance(first, str) or not isinstance(second, str):
            raise _error(rule, "first", "first and second must be regex strings")
        self.first = compile_pattern(first, ignorecase=self.ignorecase, rule=rule, key="first")
        self.second = compile_pattern(second, ignorecase=self.ignorecase, rule=rule, key="second")
        self.first_source = first

    @property
    def gate(self) -> str | None:
        return ("(?i)" if self.ignorecase else "") + self.first_source

    def run(self, doc: Document, spans: Spans | None = None) -> Iterator[Hit]:
        text = doc.text
        if self.second.groups:
            known = {m.group(1) for m in self.second.finditer(text)}
            for m in self.finditer(self.first, doc, spans):
                key = m.group(1) if self.first.groups else m.group()
                if key not in known and not self.excepted(m.group()):
                    yield Hit(
                        m.start(), m.end(), fmt(self.rule.message, m.group()), self.rule.suggestion
                    )
            return
        if self.second.search(text) is not None:
            return
        for m in self.finditer(self.first, doc, spans):
            if not self.excepted(m.group()):
                yield Hit(
                    m.start(), m.end(), fmt(self.rule.message, m.group()), self.rule.suggestion
                )
                return


class Context(PartsCheck):
    """Uproar's ``context``: a trigger pattern judged by the words around it, within its
    sentence. ``near`` patterns must occur within ``window`` words on either side (or the
    one ``near_side`` names: ``before`` or ``after``);
    ``unless`` patterns within ``window`` words before cancel it (negation, hedges,
    instructions) and ``unless_after`` patterns within ``after_window`` words after."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        nonword = _bool(rule, "nonword", False)
        self.compile_parts(
            [alternation([t], nonword=nonword) for t in _tokens(rule, "tokens")], key="tokens"
        )
        window = _int(rule, "window", 6)
        assert window is not None
        self.window = window
        after_window = _int(rule, "after_window", window)
        assert after_window is not None
        self.after_window = after_window

        def opt(key: str) -> Pattern | None:
            toks = _tokens(rule, key) if key in rule.spec else []
            if not toks:
                return None
            return compile_pattern(
                alternation(toks, nonword=False), ignorecase=True, rule=rule, key=key
            )

        self.near, self.unless, self.unless_after = opt("near"), opt("unless"), opt("unless_after")
        side = rule.spec.get("near_side", "both")
        if side not in ("before", "after", "both"):
            raise _error(rule, "near_side", "expected before, after or both")
        self.near_before, self.near_after = side != "after", side != "before"

    def judge(self, doc: Document, index: int, m: re.Match[str]) -> Hit | None:
        text = doc.text
        start, end = m.span()
        if start == end or self.excepted(m.group()):
            return None
        s_start, s_end = doc.sentence_at(start)
        before = words_before(text, start, self.window, floor=s_start)
        after = min(s_end, words_after(text, end, self.window))
        if self.unless is not None and self.unless.search(text, before, start):
            return None
        if self.unless_after is not None and self.unless_after.search(
            text, end, min(s_end, words_after(text, end, self.after_window))
        ):
            return None
        if self.near is not None and not (
            (self.near_before and self.near.search(text, before, start))
            or (self.near_after and self.near.search(text, end, after))
        ):
            return None
        return Hit(start, end, fmt(self.rule.message, m.group()), self.rule.suggestion)


class Facts(Check):
    """Uproar's ``facts``: a status update must say what is wrong, who and where, what
    customers can do and when the next update comes. ``facts`` maps each fact to
    ``{label, tokens}``; more than ``max_missing`` missing gives the rule's level, fewer
    (but some) gives ``minor_level`` if set."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        facts = rule.spec.get("facts")
        if not isinstance(facts, Mapping) or not facts:
            raise _error(rule, "facts", "expected a mapping of fact name to {label, tokens}")
        self.facts: list[tuple[str, Pattern]] = []
        sources: list[str] = []
        for name, spec in facts.items():
            if not isinstance(spec, Mapping) or not isinstance(spec.get("label"), str):
                raise _error(rule, f"facts.{name}", "expected {label: str, tokens: [...]}")
            toks = spec.get("tokens")
            if not isinstance(toks, list) or not toks or not all(isinstance(t, str) for t in toks):
                raise _error(rule, f"facts.{name}.tokens", "expected a list of patterns")
            source = alternation(toks, nonword=False)
            pattern = compile_pattern(source, ignorecase=True, rule=rule, key=f"facts.{name}")
            self.facts.append((spec["label"], pattern))
            sources.append("(?i)" + source)
        # Facts are found within sentences, so only sentences holding one of a fact's
        # literals need its (long) pattern; a fact with none of them is missing outright.
        self.prefilter = Prefilter(sources)
        max_missing = _int(rule, "max_missing", 0)
        assert max_missing is not None
        self.max_missing = max_missing
        minor = rule.spec.get("minor_level")
        if minor is not None and minor not in LEVELS:
            raise _error(rule, "minor_level", f"expected one of {', '.join(LEVELS)}")
        self.minor_level: Severity | None = minor

    def missing(self, doc: Document) -> list[str]:
        hits = self.prefilter.hits(doc.text)
        text = doc.text
        missing = []
        for index, (label, pattern) in enumerate(self.facts):
            if index not in hits:
                missing.append(label)
                continue
            offsets = hits[index]
            spans = doc.sentences_at(offsets) if offsets is not None else [(0, len(text))]
            if not any(pattern.search(text, s, e) for s, e in spans):
                missing.append(label)
        return missing

    def run(self, doc: Document, spans: Spans | None = None) -> Iterator[Hit]:
        missing = self.missing(doc)
        if not missing:
            return
        if len(missing) > self.max_missing:
            level: Severity | None = None
        elif self.minor_level is not None:
            level = self.minor_level
        else:
            return
        yield Hit(
            0,
            len(doc.text),
            fmt(self.rule.message, "; ".join(missing)),
            self.rule.suggestion,
            level,
        )


KINDS: dict[str, type[Check]] = {
    "existence": Existence,
    "substitution": Substitution,
    "occurrence": Occurrence,
    "repetition": Repetition,
    "sequence": SequenceCheck,
    "metric": Metric,
    "capitalization": Capitalization,
    "conditional": Conditional,
    "context": Context,
    "facts": Facts,
}


def compile_rule(rule: Rule) -> Check:
    return KINDS[rule.extends](rule)
