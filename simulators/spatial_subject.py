"""A virtual subject with a spatial term, for dry runs of the hotspot search (issue 19).

The coil's effective stimulus at the cortical target falls off with the coil's distance
from the subject's hotspot; here as a Gaussian of the intensity,

    effective intensity = intensity x exp(-d^2 / (2 falloff^2)),  d in mm,

with `falloff_mm` 15 by default, fed to the Goetz 2019 virtual subject
(`simulators.virtual_subject`), whose threshold is therefore `true_rmt` at the hotspot
and higher away from it. The Gaussian and its width are our assumptions, not a
published model [U]: enough for a search to have a known answer. The spatial digital
twin of Farahmandrad & Goetz (arXiv 2507.03416) would be the published basis.

`move_to(x_mm, y_mm)` moves the virtual coil. `mep_uv` makes it a simulator `MepModel`
(it can sit under a simulated device's coil), `response` a `stimctl.rmt.MepSource`.
stimctl reaches it through the entry point `stimctl.mep_sources: virtual-spatial`.
"""

from __future__ import annotations

import math

from simulators.virtual_subject import VirtualSubject
from stimctl.errors import ConfigError
from stimctl.mep import MepReading

FALLOFF_MM = 15.0


class SpatialSubject:
    def __init__(
        self,
        true_rmt: float,
        seed: int | None = None,
        *,
        hotspot_mm: tuple[float, float] = (0.0, 0.0),
        falloff_mm: float = FALLOFF_MM,
    ) -> None:
        if not (math.isfinite(falloff_mm) and falloff_mm > 0):
            raise ConfigError(f"falloff must be > 0 mm, got {falloff_mm!r}")
        if not all(math.isfinite(v) for v in hotspot_mm):
            raise ConfigError(f"hotspot must be finite mm, got {hotspot_mm!r}")
        self.subject = VirtualSubject(true_rmt, seed)
        self.true_rmt = true_rmt
        self.hotspot_mm = hotspot_mm
        self.falloff_mm = falloff_mm
        self.position_mm = (0.0, 0.0)

    def move_to(self, x_mm: float, y_mm: float) -> None:
        self.position_mm = (x_mm, y_mm)

    def gain(self) -> float:
        dx = self.position_mm[0] - self.hotspot_mm[0]
        dy = self.position_mm[1] - self.hotspot_mm[1]
        return math.exp(-(dx * dx + dy * dy) / (2.0 * self.falloff_mm**2))

    def mep_uv(self, intensity_percent_mso: float) -> float:
        return self.subject.mep_uv(intensity_percent_mso * self.gain())

    def response(self, intensity_percent_mso: int) -> MepReading:
        return MepReading(amplitude_uv=self.mep_uv(intensity_percent_mso))


def make_spatial_source(
    true_rmt: float, seed: int | None, hotspot_mm: tuple[float, float] = (0.0, 0.0)
) -> SpatialSubject:
    """Entry point `stimctl.mep_sources: virtual-spatial`."""
    return SpatialSubject(true_rmt, seed, hotspot_mm=hotspot_mm)
