"""A NATS JetStream server on loopback, for trying the bus on one machine and for the tests
and benchmarks (Debian's ``nats-server``: ``apt-get install nats-server``)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from uproar.errors import BusError


def nats_server_binary() -> str | None:
    """Where ``nats-server`` is (Debian puts it in /usr/sbin, not on every user's PATH)."""
    found = shutil.which("nats-server")
    if found is None and Path("/usr/sbin/nats-server").exists():
        found = "/usr/sbin/nats-server"
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def local_nats(store: Path, *, port: int | None = None) -> Iterator[str]:
    """Run ``nats-server -js`` on loopback with its files in ``store``; yields ``HOST:PORT``
    and stops the server after."""
    binary = nats_server_binary()
    if binary is None:
        raise BusError("nats-server is not installed (apt-get install nats-server)")
    port = port or free_port()
    with loopback_server(
        [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)], port, "nats-server"
    ) as address:
        yield address


@contextmanager
def loopback_server(command: list[str], port: int, name: str) -> Iterator[str]:
    """Run ``command`` (a server that listens on loopback ``port``) until it accepts
    connections; yields ``HOST:PORT`` and stops it after."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise BusError(f"{name} did not start on port {port}") from None
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
