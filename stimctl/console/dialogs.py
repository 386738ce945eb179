"""Modal dialogs: confirm, intensity change, annotation and adverse event.

Each returns its answer through `dismiss`; the app decides what to send to the engine.
The emergency stop is an app binding with priority, so it works over every dialog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from stimctl.console.format import percent_mso_for
from stimctl.records.models import AE_KINDS, AE_SEVERITIES


class ConfirmDialog(ModalScreen[bool]):
    """Yes or no; `y`/`n` as well as the buttons."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self._question = question
        self._yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self._question), classes="question")
            with Horizontal(classes="buttons"):
                yield Button(f"{self._yes} (y)", variant="error", id="yes")
                yield Button("No (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


@dataclass(frozen=True)
class IntensityRequest:
    percent_rmt: float
    reason: str
    confirmed: bool


class IntensityDialog(ModalScreen[IntensityRequest | None]):
    """Old -> new in % RMT and % MSO, a reason, and an explicit confirm for an increase.

    A value that is not a number is refused here with a message; nothing is clipped. The
    safety engine re-validates whatever is sent.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current_rmt: float, proposed_rmt: float, rmt_percent_mso: float) -> None:
        super().__init__()
        self._current = current_rmt
        self._proposed = proposed_rmt
        self._rmt = rmt_percent_mso

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Change intensity (from the next train)", classes="question")
            yield Label(self._preview(self._proposed), id="preview")
            yield Input(value=f"{self._proposed:g}", id="percent", placeholder="% RMT")
            yield Input(placeholder="reason (required)", id="reason")
            yield Label("", id="problem", classes="problem")
            with Horizontal(classes="buttons"):
                yield Button(self._label(self._proposed), variant="warning", id="send")
                yield Button("Cancel", id="cancel")

    def _preview(self, new: float) -> str:
        old_mso = percent_mso_for(self._current, self._rmt)
        new_mso = percent_mso_for(new, self._rmt)
        return f"{self._current:g}% RMT ({old_mso}% MSO)  ->  {new:g}% RMT ({new_mso}% MSO)"

    def _label(self, new: float) -> str:
        return "Confirm INCREASE" if new > self._current else "Apply"

    def _value(self) -> float | None:
        text = self.query_one("#percent", Input).value.strip()
        try:
            value = float(text)
        except ValueError:
            return None
        return value if value > 0 else None

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "percent":
            return
        value = self._value()
        if value is not None:
            self.query_one("#preview", Label).update(self._preview(value))
            self.query_one("#send", Button).label = self._label(value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = self._value()
        if value is not None and value > self._current:
            # Enter never raises the intensity: the confirm button has to be pressed.
            self.query_one("#send", Button).focus()
            self.query_one("#problem", Label).update("press Confirm INCREASE to send it")
            return
        self._send()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send":
            self._send()
        else:
            self.dismiss(None)

    def _send(self) -> None:
        value = self._value()
        reason = self.query_one("#reason", Input).value.strip()
        problem = self.query_one("#problem", Label)
        if value is None:
            problem.update("enter the new intensity as a positive number of % RMT")
            return
        if not reason:
            problem.update("a reason is required (it is journaled)")
            self.query_one("#reason", Input).focus()
            return
        self.dismiss(IntensityRequest(value, reason, confirmed=value > self._current))

    def action_cancel(self) -> None:
        self.dismiss(None)


class NoteDialog(ModalScreen[str | None]):
    """A free-text annotation (side effect, patient comment)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Annotation (journaled with the session time)", classes="question")
            yield Input(placeholder="note", id="note")
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self._save()
        else:
            self.dismiss(None)

    def _save(self) -> None:
        text = self.query_one("#note", Input).value.strip()
        self.dismiss(text or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class AdverseEvent:
    kind: str
    severity: str
    notes: str


class AdverseEventDialog(ModalScreen[AdverseEvent | None]):
    """Guided adverse-event form. The session is paused before this opens."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Adverse event (the session is paused)", classes="question")
            yield Select([(k, k) for k in AE_KINDS], prompt="kind", id="kind")
            yield Select([(s, s) for s in AE_SEVERITIES], prompt="severity", id="severity")
            yield Input(placeholder="notes", id="notes")
            yield Label("", id="problem", classes="problem")
            with Horizontal(classes="buttons"):
                yield Button("Record", variant="error", id="record")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "record":
            self.dismiss(None)
            return
        kind = self.query_one("#kind", Select).value
        severity = self.query_one("#severity", Select).value
        if not isinstance(kind, str) or not isinstance(severity, str):
            self.query_one("#problem", Label).update("choose a kind and a severity")
            return
        notes = self.query_one("#notes", Input).value.strip()
        self.dismiss(AdverseEvent(kind, severity, notes))

    def action_cancel(self) -> None:
        self.dismiss(None)
