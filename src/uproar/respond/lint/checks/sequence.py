"""Vale's ``sequence`` (patterns only: Uproar ships no part-of-speech tagger)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from uproar.respond.lint.checks.base import (
    Check,
    Hit,
    Spans,
    compile_pattern,
    fmt,
    rule_error,
)
from uproar.respond.lint.rules import Rule
from uproar.respond.lint.text import Document


class SequenceCheck(Check):
    """Vale's ``sequence`` without part-of-speech tags, compiled to one regex per rule."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        tokens = rule.spec.get("tokens")
        if not isinstance(tokens, list) or not tokens:
            raise rule_error(rule, "tokens", "expected a list of {pattern, negate, skip}")
        word = r"[\w'’-]+"
        gap = r"[^\w.!?\n]+"  # stay inside one sentence
        parts: list[str] = []
        for i, tok in enumerate(tokens):
            if not isinstance(tok, Mapping):
                raise rule_error(rule, f"tokens[{i}]", "expected a mapping")
            if "tag" in tok:
                raise rule_error(
                    rule, f"tokens[{i}].tag", "part-of-speech tags are not supported; use pattern"
                )
            unknown = set(tok) - {"pattern", "negate", "skip"}
            if unknown:
                raise rule_error(rule, f"tokens[{i}].{sorted(unknown)[0]}", "unknown key")
            pattern = tok.get("pattern")
            if not isinstance(pattern, str) or not pattern:
                raise rule_error(rule, f"tokens[{i}].pattern", "expected a non-empty string")
            negate, skip = tok.get("negate", False), tok.get("skip", 0)
            if not isinstance(negate, bool) or not isinstance(skip, int) or skip < 0:
                raise rule_error(rule, f"tokens[{i}]", "negate must be a bool and skip an int >= 0")
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
        return self.gate_for(self.source)

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
