"""Both models load and run with the network disabled: nothing is downloaded at run time."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SCRIPT = r"""
import json, socket

def refuse(*args, **kwargs):
    raise OSError("network disabled in this test")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

from uproar.understand import Classifier

out = {}
for model in ("fast", "accurate"):
    (labels,) = Classifier(model, threads=1).classify(["great job @acme, third outage this week"])
    out[model] = [labels.complaint, labels.sentiment]
print(json.dumps(out))
"""


@pytest.mark.slow
def test_models_load_with_network_refused() -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "NO_PROXY": "*"}
    env.pop("HTTP_PROXY", None)
    env.pop("HTTPS_PROXY", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"fast": [True, "negative"], "accurate": [True, "negative"]}
