"""The lint engine: check kinds, context and negation, offsets, profiles, rule errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uproar.errors import ConfigError, RuleError
from uproar.respond.lint import Linter, Profile, load_profile, load_style, parse_rule
from uproar.respond.lint.prefilter import required_literals
from uproar.respond.lint.rules import load_rule_text

LINTER = Linter()
NAIVE = Linter(prefilter=False)


def rule(yaml_text: str, rule_id: str = "Test.Rule") -> Linter:
    parsed = load_rule_text(textwrap.dedent(yaml_text), rule_id=rule_id, source="test.yml")
    return Linter(rules=[parsed])


def categories(text: str, *, kind: str = "reply") -> set[str]:
    return {f.category for f in LINTER.lint(text, kind=kind) if f.severity != "suggestion"}


# The issue's own examples of context and negation.
@pytest.mark.parametrize(
    ("text", "blame"),
    [
        ("We're not blaming anyone: this one is on us and we're sorry.", False),
        ("You may need to restart your modem once the fix is in.", False),
        ("Your modem caused this.", True),
        ("Most of these modems were not supplied by us.", True),
        ("This wasn't caused by your router, so please don't reset it.", False),
    ],
)
def test_blame_needs_context(text: str, blame: bool) -> None:
    assert ("blame" in categories(text)) is blame


def test_a_well_written_update_is_clean() -> None:
    text = (
        "Broadband is down for customers in Leeds and Bradford since 9:40. We're sorry. "
        "A damaged cable is the cause and engineers are on site. There's no need to reset "
        "your router. Next update at 11am."
    )
    assert LINTER.lint(text, kind="update") == []


def test_facts_apply_to_updates_not_replies() -> None:
    text = "Thanks for bearing with us while we work on it."

    def rules(kind: str) -> set[str]:
        return {f.rule for f in LINTER.lint(text, kind=kind)}

    assert "Uproar.MissingFacts" in rules("update")
    assert "Uproar.MissingFacts" not in rules("reply")


def test_offsets_are_one_based_inclusive_columns() -> None:
    text = "Sorry about that.\nThe app crashed lol, we're on it."
    (lol,) = [f for f in LINTER.lint(text, kind="reply") if f.rule == "Uproar.Slang"]
    assert lol.line == 2
    assert text.split("\n")[1][lol.start - 1 : lol.end] == "lol"


def test_each_line_drafts_carry_their_line_numbers() -> None:
    findings = LINTER.lint_lines("All good here.\n\nlmao it's down", kind="reply")
    assert {f.line for f in findings if f.rule == "Uproar.Slang"} == {3}


def test_has_errors() -> None:
    assert Linter.has_errors(LINTER.lint("This will never happen again.", kind="reply"))
    assert not Linter.has_errors(LINTER.lint("We're sorry, the DNS is down.", kind="reply"))


# Vale's check kinds, one rule each, in Vale's YAML format.
def test_existence_with_exceptions_and_message_format() -> None:
    linter = rule(
        """
        extends: existence
        message: "Avoid '%s'."
        category: tone
        level: error
        ignorecase: true
        tokens: [glitch, blip]
        exceptions: [Blip]
        """
    )
    (f,) = linter.lint("A glitch, not a Blip.", kind="reply")
    assert (f.message, f.start, f.end, f.rule) == ("Avoid 'glitch'.", 3, 8, "Test.Rule")


def test_substitution_suggests_the_swap() -> None:
    linter = rule(
        """
        extends: substitution
        message: "Use '%s' instead of '%s'."
        category: jargon
        level: warning
        ignorecase: true
        swap:
          'latency': delay
          'packet loss': dropped connections
        """
    )
    f1, f2 = linter.lint("High latency and packet loss.", kind="reply")
    assert f1.suggestion == "delay" and f1.message == "Use 'delay' instead of 'latency'."
    assert f2.suggestion == "dropped connections"


def test_occurrence_counts_per_sentence() -> None:
    linter = rule(
        """
        extends: occurrence
        message: "%s commas."
        category: readability
        scope: sentence
        max: 2
        token: ','
        """
    )
    (f,) = linter.lint("One, two, three, four. Fine, ok.", kind="reply")
    assert f.message == "3 commas." and f.start == 1


def test_repetition() -> None:
    linter = rule(
        """
        extends: repetition
        message: "'%s' twice."
        category: readability
        alpha: true
        ignorecase: true
        tokens: ['[^\\s]+']
        """
    )
    (f,) = linter.lint("Sorry for the The delay.", kind="reply")
    assert f.message == "'The' twice." and (f.start, f.end) == (11, 17)


def test_sequence_with_skip_and_negate() -> None:
    linter = rule(
        """
        extends: sequence
        message: "'%[1]s ... %[3]s'"
        category: blame
        ignorecase: true
        tokens:
          - pattern: you
          - pattern: should
            skip: 1
          - pattern: read|check
          - pattern: the
            negate: true
        """
    )
    assert [f.message for f in linter.lint("You should really read our post.", kind="reply")] == [
        "'You ... read'"
    ]
    assert linter.lint("You should read the post.", kind="reply") == []


def test_sequence_rejects_part_of_speech_tags() -> None:
    with pytest.raises(RuleError, match=r"tokens\[0\]\.tag"):
        rule(
            """
            extends: sequence
            message: x
            category: readability
            tokens:
              - tag: NN
            """
        )


def test_metric_formula_and_condition() -> None:
    linter = rule(
        """
        extends: metric
        message: "Grade %s."
        category: readability
        formula: (0.39 * (words / sentences)) + (11.8 * (syllables / words)) - 15.59
        condition: "> 10.0"
        """
    )
    hard = (
        "Notwithstanding comprehensive infrastructural remediation initiatives, intermittent "
        "authentication unavailability necessitates considerable organisational coordination."
    )
    assert linter.lint("The app is down. We are sorry.", kind="reply") == []
    (f,) = linter.lint(hard, kind="reply")
    assert f.message.startswith("Grade ")


def test_metric_rejects_code_in_formulas() -> None:
    with pytest.raises(RuleError, match="formula"):
        rule(
            """
            extends: metric
            message: x
            category: readability
            formula: __import__('os').getcwd()
            condition: "> 1.0"
            """
        )


def test_capitalization() -> None:
    linter = rule(
        """
        extends: capitalization
        message: "'%s' is not upper case."
        category: shouting
        scope: sentence
        match: $sentence
        """
    )
    assert len(linter.lint("the app is down. We know.", kind="reply")) == 1


def test_conditional_both_forms() -> None:
    acronym = rule(
        """
        extends: conditional
        message: "Define '%s'."
        category: readability
        first: '\\b([A-Z]{3,5})\\b'
        second: '(?:\\b[A-Z][a-z]+ )+\\(([A-Z]{3,5})\\)'
        """
    )
    assert [f.message for f in acronym.lint("The OLT failed. Line Terminal (LT) too.")] == [
        "Define 'OLT'."
    ]
    implies = rule(
        """
        extends: conditional
        message: "No apology for '%s'."
        category: apology
        ignorecase: true
        first: 'down|outage'
        second: 'sorry'
        """
    )
    assert len(implies.lint("The app is down.", kind="reply")) == 1
    assert implies.lint("The app is down and we're sorry.", kind="reply") == []


# Profiles.
def test_profile_disables_rules_and_styles_and_changes_levels(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        '[profile]\nname = "acme"\ndisable = ["Uproar.Slang", "Plain"]\n'
        '[profile.levels]\n"Uproar.Acronyms" = "error"\n',
        encoding="utf-8",
    )
    linter = Linter(load_profile(path))
    assert not any(r.style == "Plain" for r in linter.rules)
    found = {f.rule: f.severity for f in linter.lint("lol the DNS is down", kind="reply")}
    assert "Uproar.Slang" not in found and found["Uproar.Acronyms"] == "error"


def test_tone_rules_follow_the_profile() -> None:
    stiff = "Please be advised that the app is down. Sorry."
    casual = "Hey folks, sorry, the app is down."
    chatty, formal = Linter(Profile(tone="chatty")), Linter(Profile(tone="formal"))
    assert "tone" in {f.category for f in chatty.lint(stiff, kind="reply")}
    assert "tone" not in {f.category for f in chatty.lint(casual, kind="reply")}
    assert "tone" in {f.category for f in formal.lint(casual, kind="reply")}
    assert "tone" not in {f.category for f in formal.lint(stiff, kind="reply")}


def test_bad_profiles_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[profile]\ntone = "grumpy"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="tone"):
        load_profile(path)
    path.write_text('[profile]\ncolour = "red"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"profile\.colour"):
        load_profile(path)
    with pytest.raises(RuleError, match="unknown style 'Nope'"):
        Linter(Profile(styles=("Nope",)))


# Rule files are validated and errors name the file, rule and key.
@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("extends: existence\nmessage: x\ncategory: blame\ntokens: [a]\nlevel: fatal\n", "level"),
        ("extends: existence\nmessage: x\ncategory: rude\ntokens: [a]\n", "category"),
        ("extends: existance\nmessage: x\ncategory: blame\n", "extends"),
        ("extends: existence\nmessage: x\ncategory: blame\ntokens: [a]\ntoken: b\n", "token"),
        ("extends: existence\nmessage: x\ncategory: blame\ntokens: ['(']\n", "tokens"),
        ("extends: substitution\nmessage: x\ncategory: jargon\n", "swap"),
    ],
)
def test_bad_rule_files(tmp_path: Path, body: str, key: str) -> None:
    style = tmp_path / "Acme"
    style.mkdir()
    (style / "Bad.yml").write_text(body, encoding="utf-8")
    with pytest.raises(RuleError) as info:
        Linter(rules=load_style(style))
    message = str(info.value)
    assert "Bad.yml" in message and "Acme.Bad" in message and f"'{key}'" in message


def test_rule_ids_come_from_folder_and_file() -> None:
    parsed = parse_rule(
        {"extends": "existence", "message": "m", "category": "blame", "tokens": ["x"]},
        rule_id="Acme.NoX",
        source="Acme/NoX.yml",
    )
    assert (parsed.id, parsed.style, parsed.level) == ("Acme.NoX", "Acme", "warning")


# The prefilter is sound: the same findings as running every rule.
def test_prefilter_literals() -> None:
    assert required_literals(r"\b(?:our|the) (?:supplier|vendor)s?\b") == {"supplier", "vendor"}
    assert required_literals(r"[a-z]+") is None


VOCABULARY = (
    "your router modem caused this not our fault blame we're sorry the app is down lol "
    "never happen again 100% fixed DNS BGP latency as we already said in Leeds next update "
    "at 3pm please restart you should have read !!! NOT 😂 supplier third-party outage "
    "technical difficulties will be back by 5pm expect hope"
)
WORDS = VOCABULARY.split()
drafts = st.lists(
    st.one_of(st.sampled_from(WORDS), st.text(min_size=1, max_size=6)), max_size=40
).map(" ".join)
mixed = st.one_of(drafts, st.text(max_size=300))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mixed, kind=st.sampled_from(["update", "reply"]))
def test_never_crashes_and_offsets_are_in_range(text: str, kind: str) -> None:
    findings = LINTER.lint(text, kind=kind)
    lines = text.split("\n")
    for f in findings:
        assert 1 <= f.line <= len(lines)
        width = max(1, len(lines[f.line - 1]))
        assert 1 <= f.start <= f.end <= width, (f, lines[f.line - 1])
        assert f.severity in ("error", "warning", "suggestion")
    assert findings == NAIVE.lint(text, kind=kind)


@settings(max_examples=50, deadline=None)
@given(text=mixed)
def test_each_line_never_crashes(text: str) -> None:
    count = len(text.split("\n"))
    assert all(1 <= f.line <= count for f in LINTER.lint_lines(text, kind="reply"))
