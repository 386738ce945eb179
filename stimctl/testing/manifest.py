"""The shipped configs' SHA-256 digests, and the comparison of an installation with them.

`configs_manifest.json` (next to this module, so it ships in the wheel) lists every file
under configs/ with its digest. A lab's installation that differs (a locally edited
safety table, a missing profile) is reported by `stimctl selftest`.

Regenerate after changing anything under configs/ (tests/testing fails until you do):

    .venv/bin/python -m stimctl.testing.manifest --write --write-builtin

The same digests are also compiled into the package as `stimctl/_shipped_digests.py`
(`--write-builtin`, a release step). `selftest` compares the installation with both, so
regenerating the JSON manifest next to edited configs does not hide the edit (issue 13
item 5). `--write` only ever reads the shipped configs directory, never STIMCTL_CONFIGS.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from stimctl.testing.results import CheckResult, failed, passed

MANIFEST_PATH = Path(__file__).resolve().parent / "configs_manifest.json"
BUILTIN_PATH = Path(__file__).resolve().parents[1] / "_shipped_digests.py"
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


def builtin_digests() -> dict[str, str]:
    """The digests compiled into the package: what this stimctl release shipped."""
    from stimctl._shipped_digests import SHIPPED_CONFIG_DIGESTS

    return dict(SHIPPED_CONFIG_DIGESTS)


def render_builtin(digests: dict[str, str]) -> str:
    lines = [
        "# ruff: noqa: E501",
        '"""SHA-256 of every shipped config file, compiled into the package (generated).',
        "",
        "Written by `python -m stimctl.testing.manifest --write-builtin` from the shipped",
        "configs/ only. `selftest` and the session journal compare against these, so a",
        "regenerated configs_manifest.json cannot hide a locally edited table.",
        '"""',
        "",
        "from typing import Final",
        "",
        "SHIPPED_CONFIG_DIGESTS: Final[dict[str, str]] = {",
        *(f'    "{key}": "{value}",' for key, value in sorted(digests.items())),
        "}",
    ]
    return "\n".join(lines) + "\n"


def run_config_checks(directory: Path | None = None) -> list[CheckResult]:
    """One line per kind of config (safety tables first), naming every file that differs.

    The installed files are compared with the digests built into the package; a manifest
    file that disagrees with those (regenerated next to edited configs) fails on its own.
    """
    from stimctl.configs import configs_dir

    root = directory or configs_dir()
    installed = digests_of(root)
    shipped = builtin_digests()
    result = compare(installed, shipped)
    manifest = compare(load_manifest(), shipped)
    if not manifest.matches or manifest.extra:
        differing = manifest.changed + manifest.missing + manifest.extra
        lines = [
            failed(
                GROUP,
                f"{MANIFEST_PATH.name} matches the digests built into stimctl",
                f"regenerated or edited: {', '.join(differing)}",
            )
        ]
    else:
        lines = []
    kinds = sorted({key.split("/", 1)[0] for key in shipped}, key=lambda k: (k != "safety", k))
    for kind in kinds:
        name = f"{kind}/ matches the shipped digests"
        mine = [k for k in shipped if k.startswith(f"{kind}/")]
        changed = [k for k in result.changed if k.startswith(f"{kind}/")]
        missing = [k for k in result.missing if k.startswith(f"{kind}/")]
        extra = [k for k in result.extra if k.startswith(f"{kind}/")]
        problems = [f"locally modified: {k}" for k in changed] + [f"{k} missing" for k in missing]
        if problems:
            lines.append(failed(GROUP, name, f"{'; '.join(problems)} (in {root})"))
        else:
            note = f", plus local files {', '.join(extra)}" if extra else ""
            count = f"{len(mine)} file" + ("" if len(mine) == 1 else "s")
            lines.append(passed(GROUP, name, f"{count}{note}"))
    return lines


def main(argv: list[str] | None = None) -> int:
    from stimctl.configs import configs_dir, shipped_configs_dir

    parser = argparse.ArgumentParser(prog="python -m stimctl.testing.manifest")
    parser.add_argument("--write", action="store_true", help=f"rewrite {MANIFEST_PATH.name}")
    parser.add_argument(
        "--write-builtin",
        action="store_true",
        help=f"rewrite {BUILTIN_PATH.name} (a release step)",
    )
    parser.add_argument("--configs", type=Path, default=None, help="configs directory")
    args = parser.parse_args(argv)
    if args.write or args.write_builtin:
        if args.configs is not None:
            print("--write reads only the shipped configs, not --configs", file=sys.stderr)
            return 2
        shipped = digests_of(shipped_configs_dir())
        if args.write:
            MANIFEST_PATH.write_text(render_manifest(shipped), encoding="utf-8")
            print(f"wrote {MANIFEST_PATH}")
        if args.write_builtin:
            BUILTIN_PATH.write_text(render_builtin(shipped), encoding="utf-8")
            print(f"wrote {BUILTIN_PATH}")
        return 0
    text = render_manifest(digests_of(args.configs or configs_dir()))
    current = MANIFEST_PATH.read_text(encoding="utf-8") if MANIFEST_PATH.exists() else ""
    if current == text:
        print("manifest up to date")
        return 0
    print(f"{MANIFEST_PATH} is out of date: run with --write", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
