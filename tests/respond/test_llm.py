"""Model-assisted drafting against a real OpenAI-compatible server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pyarrow as pa
import pytest

from uproar.errors import ModelError
from uproar.respond.inbox import build_inbox
from uproar.respond.lint import Linter
from uproar.respond.llm import ChatClient, ModelDrafter
from uproar.store import Store

GOOD = "So sorry, it's not just you. Our team is on it and we'll post an update by 9am."
BLAME = "Sorry, but your router caused this, not our network. Please check your settings."


class FakeModel:
    """A tiny /v1/chat/completions server. ``mode`` picks the answer: good, blame, slow,
    error (HTTP 500) or garbage (not JSON). Requests are kept for inspection."""

    def __init__(self) -> None:
        self.mode = "good"
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()
        model = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                model.requests.append({"path": self.path, "body": body})
                if self.path != "/v1/chat/completions":
                    self._send(404, b'{"error": "not found"}')
                elif model.mode == "slow":
                    model.release.wait(5)
                    self._send(200, b"{}")
                elif model.mode == "error":
                    self._send(500, b'{"error": {"message": "boom"}}')
                elif model.mode == "garbage":
                    self._send(200, b"<html>not json</html>")
                else:
                    content = GOOD if model.mode == "good" else BLAME
                    answer = {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                    }
                    self._send(200, json.dumps(answer).encode())

            def _send(self, status: int, payload: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> FakeModel:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def fake() -> Iterator[FakeModel]:
    with FakeModel() as server:
        yield server


@pytest.fixture(scope="module")
def linter() -> Linter:
    return Linter()


def test_client_speaks_the_chat_completions_shape(fake: FakeModel) -> None:
    with ChatClient(fake.url + "/v1/", model="local-7b", api_key="k") as client:
        assert client.url == fake.url + "/v1/chat/completions"
        assert client.complete([{"role": "user", "content": "hi"}]) == GOOD
    (request,) = fake.requests
    assert request["path"] == "/v1/chat/completions"
    body = request["body"]
    assert body["model"] == "local-7b" and body["messages"] == [{"role": "user", "content": "hi"}]
    assert body["n"] == 1 and body["seed"] == 0


def test_accepted_draft(fake: FakeModel, linter: Linter) -> None:
    with ChatClient(fake.url) as client:
        proposal = ModelDrafter(client, linter).reply(
            brand="KiwiNet", intent="status", examples=["is it down??"], template="Sorry."
        )
    assert proposal.accepted and proposal.text == GOOD
    messages = fake.requests[0]["body"]["messages"]
    assert messages[0]["role"] == "system" and "KiwiNet" in messages[0]["content"]
    assert "is it down??" in messages[1]["content"]


def test_blame_shifting_draft_is_rejected(fake: FakeModel, linter: Linter) -> None:
    fake.mode = "blame"
    with ChatClient(fake.url) as client:
        proposal = ModelDrafter(client, linter).reply(
            brand="KiwiNet", intent="status", examples=["is it down?"], template="Sorry."
        )
    assert not proposal.accepted and proposal.text == BLAME
    assert "linter rejected" in proposal.reason and "Blame" in proposal.reason
    assert any(f.category == "blame" and f.severity == "error" for f in proposal.findings)


@pytest.mark.parametrize(
    ("mode", "why"),
    [("slow", "no answer within 0.3s"), ("error", "HTTP 500"), ("garbage", "model unavailable")],
)
def test_failures_keep_the_template(fake: FakeModel, linter: Linter, mode: str, why: str) -> None:
    fake.mode = mode
    with ChatClient(fake.url, timeout=0.3) as client:
        if mode != "garbage":
            with pytest.raises(ModelError, match=why):
                client.complete([{"role": "user", "content": "hi"}])
        proposal = ModelDrafter(client, linter).reply(
            brand="KiwiNet", intent="eta", examples=["when?"], template="Sorry."
        )
    assert not proposal.accepted and proposal.text is None
    assert why in proposal.reason and "template kept" in proposal.reason


def test_bad_settings() -> None:
    with pytest.raises(ModelError, match="http"):
        ChatClient("ftp://example.com")
    with pytest.raises(ModelError, match="timeout"):
        ChatClient("http://127.0.0.1:1", timeout=0)


def _store() -> Store:
    store = Store(":memory:")
    rows = [
        {
            "platform": "x",
            "id": str(i),
            "created_at": f"2014-11-05 08:0{i}:00",
            "text": "Is the internet down in Auckland?",
            "author_id": f"a{i}",
            "brands": ["kiwinet"],
            "ingested_at": "2014-11-05 09:00:00",
        }
        for i in range(3)
    ]
    table = pa.Table.from_pylist(rows).cast(
        pa.schema(
            [
                ("platform", pa.string()),
                ("id", pa.string()),
                ("created_at", pa.timestamp("us")),
                ("text", pa.string()),
                ("author_id", pa.string()),
                ("brands", pa.list_(pa.string())),
                ("ingested_at", pa.timestamp("us")),
            ]
        )
    )
    store.insert_posts(table)
    return store


@pytest.mark.parametrize(("mode", "source"), [("good", "model"), ("blame", "template")])
def test_inbox_uses_the_model_only_when_the_linter_agrees(
    fake: FakeModel, linter: Linter, mode: str, source: str
) -> None:
    fake.mode = mode
    with _store() as store, ChatClient(fake.url) as client:
        inbox = build_inbox(
            store, brand="kiwinet", linter=linter, drafter=ModelDrafter(client, linter)
        )
    (cluster,) = inbox.clusters
    assert cluster.count == 3
    draft = cluster.draft
    assert draft.source == source
    assert not linter.has_errors(linter.lint(draft.text, kind="reply"))
    if source == "template":
        assert "your router" not in draft.text and "linter rejected" in (draft.note or "")
    else:
        assert draft.text == GOOD


def test_cli_inbox_with_a_model(fake: FakeModel, tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from uproar.cli import respond  # noqa: F401  (registers the commands)
    from uproar.cli.app import app

    path = tmp_path / "llm.duckdb"
    with _store() as memory:
        rows = memory.posts_arrow()
    with Store(path) as store:
        store.insert_posts(rows)
    args = ["inbox", "--db", str(path), "--brand", "kiwinet", "--json", "--llm-url", fake.url]
    result = CliRunner().invoke(app, [*args, "--llm-model", "local-7b"])
    assert result.exit_code == 0, result.output
    (cluster,) = json.loads(result.stdout)["clusters"]
    assert cluster["draft"]["source"] == "model" and cluster["draft"]["text"] == GOOD
    assert fake.requests[0]["body"]["model"] == "local-7b"
