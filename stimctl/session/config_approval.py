"""May a session run with these config files? The one check (issue 13 item 5).

In clinical mode a safety table or site file that is not the shipped one runs only with
an engineer's approval of exactly its bytes on record (`stimctl site approve FILE`). The
approvals found are journaled in `session_start`. This is the single function the
identity work hardens (approver authenticated, role engineer, signature checked).
"""

from __future__ import annotations

from stimctl.config_state import ConfigFile
from stimctl.errors import SafetyViolation
from stimctl.records.site_approvals import SiteApproval, approval_for
from stimctl.records.store import Store

RULE = "CFG-1"
SOURCE = "issue 13 item 5: modified safety tables and site files need an engineer approval [P]"


def require_approvals(
    files: tuple[ConfigFile, ...], mode: str, store: Store, *, required: bool = True
) -> tuple[SiteApproval, ...]:
    """The approvals of every modified safety table and site file in `files`.

    Clinical mode with `required`: a modified file without an approval refuses the
    session (SafetyViolation, exit 3) before any device is opened. Otherwise the
    approvals found are returned for the journal and missing ones are only reported.
    """
    found: list[SiteApproval] = []
    missing: list[ConfigFile] = []
    for file in files:
        if not file.needs_approval:
            continue
        approval = approval_for(store, file.sha256)
        if approval is None:
            missing.append(file)
        else:
            found.append(approval)
    if missing and required and mode == "clinical":
        names = ", ".join(f.name for f in missing)
        raise SafetyViolation(
            f"{RULE}: locally modified {names} has no engineer approval on record; "
            f"clinical sessions need one: stimctl site approve FILE --by ID --reason TEXT",
            rule=RULE,
            source=SOURCE,
        )
    return tuple(found)
