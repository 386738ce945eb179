"""A screening answers file to fill in (`stimctl screen SUBJECT --template`).

Fail closed: the template answers nothing. Every item is the placeholder "?" and the
date is "YYYY-MM-DD", both of which the strict reader refuses (`load_screening` lists
every unanswered item), so an unedited template can never be recorded as "all no".
"""

from __future__ import annotations

import textwrap

from stimctl.safety.tables import screening_table

ON_YES = {
    "block": "yes blocks stimulation",
    "override": "yes needs a physician's signed override",
    "record": "yes is recorded",
}


def screening_template(subject_id: str) -> str:
    table = screening_table()
    lines = [
        f"# Screening answers for {subject_id}: answer every item with true or false (no",
        "# quotes), set the date, then record it with",
        f"#   stimctl screen {subject_id} --answers THIS_FILE",
        '# Unanswered items ("?") and the placeholder date are refused, every one listed.',
        "# Field reference: docs/screening-format.md.",
        f'questionnaire = "{table.questionnaire}"',
        'answered_on = "YYYY-MM-DD"        # the day the subject answered, no quotes: 2026-11-24',
        '# reviewer = "dr-lee"             # optional: operator id of the reviewing clinician',
        'medications = []                  # current medications, e.g. ["sertraline"]',
        "",
        "[answers]",
    ]
    for item_id, item in table.items.items():
        question = textwrap.wrap(f"{item.question} ({ON_YES[item.on_yes]}, {item.rule})", 86)
        lines.extend(f"# {part}" for part in question)
        lines.append(f'{item_id} = "?"')
    return "\n".join(lines) + "\n"
