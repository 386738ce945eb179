"""Lab integration (issue 18): Lab Streaming Layer markers and live EMG.

- `lsl`: loading pylsl (an optional dependency, the `lab` extra), stream names, resolving,
  and `PulseClock`, which maps journal times onto the LSL clock.
- `markers`: `MarkerOutlet`, a journal listener that publishes one JSON marker per pulse
  and per state change.
- `mep_window`: cutting a trial around a pulse, the peak-to-peak MEP and the
  background-EMG rejection rule (pure, numpy).
- `emg_source`: `LslEmgSource`, an MEP source reading an EMG stream (`--mep lsl:NAME`).

Nothing here imports `simulators` (ARCHITECTURE rule 1); the synthetic EMG stream lives
in `simulators/emg.py` and meets stimctl only over LSL.
"""
