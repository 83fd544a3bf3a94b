"""Optional model-assisted reply drafting through any OpenAI-compatible endpoint.

Off by default: it runs only when a base URL is given (the ``llm_url`` setting, e.g. a local
model server at ``http://127.0.0.1:8080``). The model proposes; the voice linter decides. A
proposal with an error-level finding, one that does not fit the platform, an empty answer,
an HTTP error or a timeout all leave the template draft in place, and say why.

    client = ChatClient("http://127.0.0.1:8080", model="local")
    drafter = ModelDrafter(client, Linter())
    proposal = drafter.reply(brand="KiwiNet", intent="eta", examples=[...], template=draft,
                             facts=facts, platform="x")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from uproar.errors import ModelError
from uproar.records import Finding
from uproar.respond.datafiles import load_toml
from uproar.respond.lint import Linter
from uproar.respond.platforms import fits, max_length
from uproar.respond.thread import Facts

FACT_KEYS = ("what", "who", "do", "doing", "next_update", "changed")


class ChatClient:
    """A minimal client for ``POST {base}/v1/chat/completions`` (OpenAI's request and
    response shape). Raises ``ModelError`` on timeouts, HTTP errors and malformed answers."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str = "default",
        api_key: str | None = None,
        timeout: float = 10.0,
        temperature: float = 0.2,
        max_tokens: int = 200,
        seed: int = 0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ModelError(f"llm_url must be an http(s) URL, got {base_url!r}", key="llm_url")
        if timeout <= 0:
            raise ModelError(f"timeout must be positive, got {timeout}", key="timeout")
        base = base_url.rstrip("/")
        self.url = base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")
        self.model = model
        self.timeout = timeout
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.seed = seed
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def complete(self, messages: Sequence[dict[str, str]]) -> str:
        """The first choice's message content."""
        body = {
            "model": self.model,
            "messages": list(messages),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "n": 1,
        }
        try:
            response = self._http.post(self.url, json=body)
            response.raise_for_status()
            data: Any = response.json()
        except httpx.TimeoutException as exc:
            raise ModelError(f"{self.url}: no answer within {self.timeout}s", url=self.url) from exc
        except httpx.HTTPStatusError as exc:
            raise ModelError(f"{self.url}: HTTP {exc.response.status_code}", url=self.url) from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise ModelError(f"{self.url}: {exc}", url=self.url) from exc
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ModelError(f"{self.url}: answer has no choices[0].message.content") from exc
        if not isinstance(content, str):
            raise ModelError(f"{self.url}: message content is not text")
        return content

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class Proposal:
    """What came of asking the model: ``accepted`` drafts pass the linter and fit."""

    text: str | None
    accepted: bool
    reason: str
    findings: tuple[Finding, ...] = ()


def _prompts() -> dict[str, str]:
    return load_toml(None, _parse_prompts, shipped="llm.toml", what="model prompts")


def _parse_prompts(data: dict[str, Any], source: str) -> dict[str, str]:
    return {k: str(v) for k, v in data.items()}


class ModelDrafter:
    """Asks the model for a reply and keeps it only if the linter passes it."""

    def __init__(self, client: ChatClient, linter: Linter, *, max_examples: int = 5) -> None:
        if max_examples < 1:
            raise ModelError(f"max_examples must be >= 1, got {max_examples}")
        self.client = client
        self.linter = linter
        self.max_examples = max_examples

    def messages(
        self,
        *,
        brand: str,
        intent: str,
        examples: Sequence[str],
        count: int,
        template: str,
        facts: Facts | None,
        platform: str,
    ) -> list[dict[str, str]]:
        prompts = _prompts()
        known = [
            f"- {key}: {getattr(facts, key)}"
            for key in FACT_KEYS
            if facts is not None and getattr(facts, key)
        ]
        system = prompts["system"].format(brand=brand, max_chars=max_length(platform))
        user = prompts["user"].format(
            facts="\n".join(known) or "- none confirmed yet",
            intent=intent.replace("_", " "),
            count=count,
            examples="\n".join(f"- {' '.join(e.split())}" for e in examples[: self.max_examples]),
            template=template,
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def reply(
        self,
        *,
        brand: str,
        intent: str,
        examples: Sequence[str],
        template: str,
        facts: Facts | None = None,
        platform: str = "x",
        count: int | None = None,
    ) -> Proposal:
        messages = self.messages(
            brand=brand,
            intent=intent,
            examples=examples,
            count=count if count is not None else len(examples),
            template=template,
            facts=facts,
            platform=platform,
        )
        try:
            text = " ".join(self.client.complete(messages).split()).strip('"')
        except ModelError as exc:
            return Proposal(None, False, f"model unavailable ({exc.message}); template kept")
        if not text:
            return Proposal(None, False, "model returned nothing; template kept")
        findings = tuple(self.linter.lint(text, kind="reply"))
        if self.linter.has_errors(findings):
            rules = ", ".join(sorted({f.rule for f in findings if f.severity == "error"}))
            return Proposal(text, False, f"linter rejected the model's draft ({rules})", findings)
        if not fits(text, platform):
            return Proposal(text, False, f"model's draft is too long for {platform}", findings)
        return Proposal(text, True, "model draft passed the linter", findings)
