"""Every command block of README.md and docs/*.md runs as written (issue 16 item 1).

Each ```sh / ```console block runs in bash, in an empty STIMCTL_HOME and an empty working
folder (with `.venv` linked in, so `source .venv/bin/activate` works), with the
installation's `stimctl` first on PATH. Commands run one after the other in one shell
(variables carry over); each must exit 0, or N where its trailing comment starts with
`# exit N`. In ```console blocks only the `$ ` lines are commands (the rest is output).

Blocks that cannot run here are listed in ALLOWED with the reason: a stimulator at a
serial port, a PostgreSQL server, system packages, or the test suite itself. The list
is explicit and kept small; a test fails when an entry no longer matches a block.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LANGUAGES = ("sh", "bash", "shell", "console")

ALLOWED: dict[tuple[str, str], str] = {
    ("README.md", "make demo"): "runs `make test`, the whole suite this test is part of",
    ("docs/clinic-setup.md", "stimctl records info"): "a clinic's PostgreSQL server",
    ("docs/clinic-setup.md", "pg_dump --format=custom"): "a clinic's PostgreSQL server",
    ("docs/clinic-setup.md", "createdb -O stimctl"): "a clinic's PostgreSQL server",
    ("docs/screenshots.md", "apt-get update"): "installs system packages (root)",
    ("docs/screenshots.md", "STIMCTL_UPDATE_SNAPSHOTS=1"): "rewrites the snapshot files",
    ("docs/screenshots.md", "export STIMCTL_HOME=/tmp/stimctl-look"): "tmux and Chromium",
    ("docs/screenshots.md", 'python3 - "$JOURNAL"'): "follows the Chromium block above",
    ("docs/screenshots.md", "export STIMCTL_HOME=/tmp/stimctl-course"): "repo example, Chromium",
    ("docs/testing.md", "stimctl selftest --driver magpro-x100 --port"): "a stimulator",
    ("docs/lab-triggers.md", "stimctl sim serve"): "a pty served in the background, a stimulator",
    ("docs/testing.md", "pytest"): "a stimulator at a serial port",
    ("docs/testing.md", "pytest our-lab-tests"): "a lab's own test folder (output shown)",
}
"""(document, start of the block's first command): why it does not run here."""


@dataclass(frozen=True)
class Block:
    document: str
    number: int
    commands: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.document}#{self.number}"


def _commands(language: str, body: str) -> tuple[str, ...]:
    lines = body.splitlines()
    if language == "console":
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    commands: list[str] = []
    pending = ""
    for line in lines:
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line + "\n"
        if not line.rstrip().endswith("\\"):
            commands.append(pending.rstrip("\n"))
            pending = ""
    if pending:
        commands.append(pending.rstrip("\n"))
    return tuple(commands)


def blocks() -> list[Block]:
    found = []
    fence = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
    for path in DOCUMENTS:
        name = str(path.relative_to(ROOT))
        for number, match in enumerate(fence.finditer(path.read_text(encoding="utf-8"))):
            if match.group(1) in LANGUAGES:
                found.append(Block(name, number, _commands(match.group(1), match.group(2))))
    return found


def _allowed(block: Block) -> str | None:
    first = block.commands[0] if block.commands else ""
    for (document, start), reason in ALLOWED.items():
        if document == block.document and first.startswith(start):
            return reason
    return None


def expected_exit(command: str) -> int:
    last = command.splitlines()[-1]
    match = re.search(r"\s#\s*exit (\d+)\b", last)
    return int(match.group(1)) if match else 0


def script(block: Block) -> str:
    lines = ["set -u -o pipefail"]
    for command in block.commands:
        want = expected_exit(command)
        shown = command.replace("'", "'\\''")
        lines += [
            command,
            f"rc=$?; if [ $rc -ne {want} ]; then",
            f"  printf '%s\\n' 'exit '$rc' (expected {want}): {shown}' >&2; exit 97",
            "fi",
        ]
    return "\n".join(lines) + "\n"


RUNNABLE = [b for b in blocks() if _allowed(b) is None]


def test_the_allow_list_is_small_and_every_entry_matches_a_block() -> None:
    assert len(ALLOWED) <= 13
    every = blocks()
    for (document, start), reason in ALLOWED.items():
        assert reason
        assert any(
            b.document == document and b.commands and b.commands[0].startswith(start) for b in every
        ), f"ALLOWED entry {document}: {start!r} matches no block any more"
    assert len(RUNNABLE) >= 6  # the README tour at least


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: b.key)
def test_the_command_block_runs_as_written(block: Block, tmp_path: Path) -> None:
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    (work / ".venv").symlink_to(ROOT / ".venv")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("STIMCTL_") and key != "VIRTUAL_ENV"
    }
    env["STIMCTL_HOME"] = str(home)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    (tmp_path / "block.sh").write_text(script(block))
    done = subprocess.run(
        ["bash", str(tmp_path / "block.sh")],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{block.key}:\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr


def test_a_block_that_fails_is_caught(tmp_path: Path) -> None:
    """The runner itself: a wrong exit code fails, a declared one passes."""
    wrong = Block("x.md", 0, ("stimctl check no-such-protocol --rmt 55",))
    declared = Block("x.md", 1, ("stimctl check no-such-protocol --rmt 55  # exit 2: unknown",))
    env = {**os.environ, "STIMCTL_HOME": str(tmp_path / "home")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for block, code in ((wrong, 97), (declared, 0)):
        (tmp_path / "b.sh").write_text(script(block))
        run = subprocess.run(["bash", str(tmp_path / "b.sh")], env=env, capture_output=True)
        assert run.returncode == code, run.stderr
