"""Uproar's ``facts``: what a status update must state."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from uproar.records import Severity
from uproar.respond.lint.checks.base import (
    Check,
    Hit,
    Pattern,
    Spans,
    alternation,
    compile_pattern,
    fmt,
    int_key,
    rule_error,
)
from uproar.respond.lint.prefilter import Prefilter
from uproar.respond.lint.rules import LEVELS, Rule
from uproar.respond.lint.text import Document


class Facts(Check):
    """Uproar's ``facts``: a status update must say what is wrong, who and where, what
    customers can do and when the next update comes. ``facts`` maps each fact to
    ``{label, tokens}``; more than ``max_missing`` missing gives the rule's level, fewer
    (but some) gives ``minor_level`` if set."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        facts = rule.spec.get("facts")
        if not isinstance(facts, Mapping) or not facts:
            raise rule_error(rule, "facts", "expected a mapping of fact name to {label, tokens}")
        self.facts: list[tuple[str, Pattern]] = []
        sources: list[str] = []
        for name, spec in facts.items():
            if not isinstance(spec, Mapping) or not isinstance(spec.get("label"), str):
                raise rule_error(rule, f"facts.{name}", "expected {label: str, tokens: [...]}")
            toks = spec.get("tokens")
            if not isinstance(toks, list) or not toks or not all(isinstance(t, str) for t in toks):
                raise rule_error(rule, f"facts.{name}.tokens", "expected a list of patterns")
            source = alternation(toks, nonword=False)
            pattern = compile_pattern(source, ignorecase=True, rule=rule, key=f"facts.{name}")
            self.facts.append((spec["label"], pattern))
            sources.append("(?i)" + source)
        # Facts are found within sentences, so only sentences holding one of a fact's
        # literals need its (long) pattern; a fact with none of them is missing outright.
        self.prefilter = Prefilter(sources)
        max_missing = int_key(rule, "max_missing", 0)
        assert max_missing is not None
        self.max_missing = max_missing
        minor = rule.spec.get("minor_level")
        if minor is not None and minor not in LEVELS:
            raise rule_error(rule, "minor_level", f"expected one of {', '.join(LEVELS)}")
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
