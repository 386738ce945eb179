"""The shipped configs' SHA-256 digests, and the comparison of an installation with them.

`configs_manifest.json` (next to this module, so it ships in the wheel) lists every file
under configs/ with its digest. A lab's installation that differs (a locally edited
safety table, a missing profile) is reported by `stimctl selftest`.

Regenerate after changing anything under configs/ (tests/testing fails until you do):

    .venv/bin/python -m stimctl.testing.manifest --write
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from stimctl.testing.results import CheckResult, failed, passed

MANIFEST_PATH = Path(__file__).resolve().parent / "configs_manifest.json"
GROUP = "configs"


def digests_of(directory: Path) -> dict[str, str]:
    """`relative/posix/path` -> SHA-256 of every file under `directory` (no hidden files)."""
    from stimctl.configs import file_digest

    found = {}
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if not path.is_file() or any(
            part.startswith(".") or part == "__pycache__" for part in relative.parts
        ):
            continue
        found[relative.as_posix()] = file_digest(path)
    return found


def load_manifest(path: Path = MANIFEST_PATH) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    files = data["files"]
    assert isinstance(files, dict)
    return {str(k): str(v) for k, v in files.items()}


def render_manifest(digests: dict[str, str]) -> str:
    body = {"algorithm": "sha256", "files": dict(sorted(digests.items()))}
    return json.dumps(body, indent=2) + "\n"


@dataclass(frozen=True)
class ConfigComparison:
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return not self.changed and not self.missing


def compare(installed: dict[str, str], shipped: dict[str, str]) -> ConfigComparison:
    return ConfigComparison(
        changed=sorted(k for k in shipped if k in installed and installed[k] != shipped[k]),
        missing=sorted(k for k in shipped if k not in installed),
        extra=sorted(k for k in installed if k not in shipped),
    )


def run_config_checks(directory: Path | None = None) -> list[CheckResult]:
    """One line per kind of config (safety tables first), naming every file that differs."""
    from stimctl.configs import configs_dir

    root = directory or configs_dir()
    installed = digests_of(root)
    shipped = load_manifest()
    result = compare(installed, shipped)
    kinds = sorted({key.split("/", 1)[0] for key in shipped}, key=lambda k: (k != "safety", k))
    lines = []
    for kind in kinds:
        name = f"{kind}/ matches the shipped digests"
        mine = [k for k in shipped if k.startswith(f"{kind}/")]
        changed = [k for k in result.changed if k.startswith(f"{kind}/")]
        missing = [k for k in result.missing if k.startswith(f"{kind}/")]
        extra = [k for k in result.extra if k.startswith(f"{kind}/")]
        problems = [f"{k} edited locally" for k in changed] + [f"{k} missing" for k in missing]
        if problems:
            lines.append(failed(GROUP, name, f"{'; '.join(problems)} (in {root})"))
        else:
            note = f", plus local files {', '.join(extra)}" if extra else ""
            count = f"{len(mine)} file" + ("" if len(mine) == 1 else "s")
            lines.append(passed(GROUP, name, f"{count}{note}"))
    return lines


def main(argv: list[str] | None = None) -> int:
    from stimctl.configs import configs_dir

    parser = argparse.ArgumentParser(prog="python -m stimctl.testing.manifest")
    parser.add_argument("--write", action="store_true", help=f"rewrite {MANIFEST_PATH.name}")
    parser.add_argument("--configs", type=Path, default=None, help="configs directory")
    args = parser.parse_args(argv)
    text = render_manifest(digests_of(args.configs or configs_dir()))
    if args.write:
        MANIFEST_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {MANIFEST_PATH}")
        return 0
    current = MANIFEST_PATH.read_text(encoding="utf-8") if MANIFEST_PATH.exists() else ""
    if current == text:
        print("manifest up to date")
        return 0
    print(f"{MANIFEST_PATH} is out of date: run with --write", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
