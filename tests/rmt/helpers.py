"""Deterministic MEP sources for method tests (the virtual subject is tested on its own)."""

from __future__ import annotations

from dataclasses import dataclass, field

from stimctl.rmt import MepReading


@dataclass
class StepSubject:
    """A noise-free subject: 500 µV at or above `threshold`, 10 µV below."""

    threshold: int
    asked: list[int] = field(default_factory=list)

    def response(self, intensity_percent_mso: int) -> MepReading:
        self.asked.append(intensity_percent_mso)
        amplitude = 500.0 if intensity_percent_mso >= self.threshold else 10.0
        return MepReading(amplitude_uv=amplitude)


@dataclass
class ConstantSubject:
    """The same amplitude at every intensity (pathological subjects)."""

    amplitude_uv: float
    asked: list[int] = field(default_factory=list)

    def response(self, intensity_percent_mso: int) -> MepReading:
        self.asked.append(intensity_percent_mso)
        return MepReading(amplitude_uv=self.amplitude_uv)


@dataclass
class ScriptedSubject:
    """Answers from a list of yes/no, cycling; ignores the intensity."""

    answers: list[bool]
    asked: list[int] = field(default_factory=list)

    def response(self, intensity_percent_mso: int) -> MepReading:
        answer = self.answers[len(self.asked) % len(self.answers)]
        self.asked.append(intensity_percent_mso)
        return MepReading(visible=answer)
