"""Vale's ``metric``: a formula over the draft's counts against a condition."""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping

from uproar.respond.lint.checks.base import (
    Check,
    Hit,
    Spans,
    fmt,
    rule_error,
)
from uproar.respond.lint.rules import Rule
from uproar.respond.lint.text import COUNT_VARIABLES, MARKUP_VARIABLES, Document

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

    VARIABLES = COUNT_VARIABLES + MARKUP_VARIABLES

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        formula = rule.spec.get("formula")
        if not isinstance(formula, str):
            raise rule_error(rule, "formula", "expected a string")
        try:
            tree = ast.parse(formula.strip().replace("heading.", "heading_"), mode="eval")
        except SyntaxError as exc:
            raise rule_error(rule, "formula", f"not a formula: {exc.msg}") from exc
        self._check_node(tree.body)
        self.tree = tree.body
        self.names = frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
        condition = rule.spec.get("condition")
        m = _CONDITION.match(condition) if isinstance(condition, str) else None
        if m is None:
            raise rule_error(rule, "condition", "expected an operator and a number, e.g. '> 8.0'")
        self.compare = _COMPARE[m.group(1)]
        self.threshold = float(m.group(2))

    def _check_node(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return
        if isinstance(node, ast.Name):
            if node.id not in self.VARIABLES and not node.id.startswith("heading_"):
                raise rule_error(self.rule, "formula", f"unknown variable {node.id!r}")
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
                raise rule_error(self.rule, "formula", f"unknown function {node.func.id!r}")
            for arg in node.args:
                self._check_node(arg)
            return
        raise rule_error(self.rule, "formula", f"unsupported expression {ast.dump(node)[:40]}")

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
