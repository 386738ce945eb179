"""The self-test record an engineer files: Markdown, with blanks to sign."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stimctl.testing.selftest import Battery


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(battery: Battery) -> str:
    from stimctl.testing.manifest import load_manifest

    software = battery.software
    shipped = load_manifest()
    lines = [
        "# stimctl safety self-test record",
        "",
        f"- **Result:** {'PASSED' if battery.ok else 'FAILED'} ({battery.counts()})",
        f"- **Date (UTC):** {battery.started_at:%Y-%m-%d %H:%M:%S} to "
        f"{battery.finished_at:%H:%M:%S}",
        f"- **Software:** stimctl {software['stimctl']}, Python {software['python']}",
        f"- **Computer:** {software['host']} ({software['platform']})",
        f"- **Configs:** {battery.configs_dir}",
        f"- **Tested against:** {battery.target}",
        "",
        "## Device identity",
        "",
        "| Target | Vendor | Model | Software | Serial number |",
        "|---|---|---|---|---|",
    ]
    for run in battery.devices:
        ident = run.identity
        lines.append(
            "| "
            + " | ".join(
                _cell(v)
                for v in (
                    run.target.label,
                    ident.get("vendor", "-"),
                    ident.get("model", ident.get("error", "-")),
                    ident.get("software_version", "-"),
                    ident.get("serial_number", "-"),
                )
            )
            + " |"
        )
    if not battery.devices:
        lines.append("| (no device checks run) | | | | |")
    lines += [
        "",
        "## Safety table digests (SHA-256)",
        "",
        "| File | SHA-256 | Same as shipped |",
        "|---|---|---|",
    ]
    for name, digest in sorted(battery.table_digests.items()):
        expected = shipped.get(f"safety/{name}")
        same = "yes" if expected == digest else ("not shipped" if expected is None else "**NO**")
        lines.append(f"| {_cell(name)} | `{digest}` | {same} |")
    lines += [
        "",
        "## Checks",
        "",
        "| # | Result | Group | Check | Detail |",
        "|---|---|---|---|---|",
    ]
    for number, result in enumerate(battery.results, 1):
        outcome = result.outcome.value.upper()
        shown = f"**{outcome}**" if result.failed else outcome
        lines.append(
            f"| {number} | {shown} | {_cell(result.group)} | {_cell(result.name)} | "
            f"{_cell(result.detail)} |"
        )
    lines += [
        "",
        "## Sign-off",
        "",
        "I ran this self-test on the installation named above and reviewed every line.",
        "",
        "Tested by (name): ______________________________  Role: __________________",
        "",
        "Signature: ______________________________  Date: ______________",
        "",
        "Reviewed by (name): ______________________________  Role: __________________",
        "",
        "Signature: ______________________________  Date: ______________",
        "",
    ]
    return "\n".join(lines)
