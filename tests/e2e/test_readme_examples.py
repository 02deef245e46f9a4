"""Every ```sh block of the README runs, as written, against a demo server on a scratch data
directory (`aula-ws serve --demo`, as the README's first command starts it), and succeeds:
exit 0 under `bash -euo pipefail`, no traceback, no error answer. A block preceded by a
`<!-- not run by tests/e2e/test_readme_examples.py: ... -->` line is left out (it installs).

The README's address http://127.0.0.1:8080 is replaced by the test server's (AULA_PORT
points the demo at a free port, so its MNET root matches); `aula-ws` and `.venv/bin/aula-ws`
are this suite's own."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.e2e.server_process import ROOT, SERVING, running_process

FENCE = re.compile(r"(?P<before>[^\n]*)\n```sh\n(?P<body>.*?)\n```", re.S)
NOT_RUN = "<!-- not run by tests/e2e/test_readme_examples.py"
README_ADDRESS = "127.0.0.1:8080"
ERROR_ANSWERS = ("Traceback", '"exception"', "faultcode", "Error:")


def readme_blocks() -> list[tuple[int, str]]:
    text = (ROOT / "README.md").read_text()
    blocks = []
    for match in FENCE.finditer(text):
        if not match.group("before").startswith(NOT_RUN):
            blocks.append((text[: match.start("body")].count("\n") + 1, match.group("body")))
    return blocks


def test_the_readme_has_examples_to_run():
    assert len(readme_blocks()) >= 4


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("readme")
    bindir = Path(sys.executable).parent
    (scratch / ".venv").mkdir()
    (scratch / ".venv" / "bin").symlink_to(bindir)  # the README's `.venv/bin/aula-ws`
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AULA_")}
    env.update(AULA_DATA_DIR=str(scratch / "aula-data"), AULA_PORT=str(port), PATH=f"{bindir}:{env['PATH']}")
    command = [str(bindir / "aula-ws"), "serve", "--demo"]
    with running_process(command, env, SERVING) as server:
        requests.get(f"{server.base_url}/health", timeout=30).raise_for_status()
        yield scratch, env, port


@pytest.mark.parametrize(("line", "block"), readme_blocks(), ids=[f"README line {n}" for n, _ in readme_blocks()])
def test_a_readme_example_runs_on_the_demo(demo, line, block):
    scratch, env, port = demo
    script = block.replace(README_ADDRESS, f"127.0.0.1:{port}")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=scratch, env=env, capture_output=True, text=True, timeout=300
    )
    shown = f"README line {line}:\n{block}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    assert result.returncode == 0, shown
    assert not any(error in result.stdout + result.stderr for error in ERROR_ANSWERS), shown
