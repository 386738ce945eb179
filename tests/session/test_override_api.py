"""Through the Python API an override must be signed as the CLI signs it.

`prepare(..., override=Override(operator, reason))` followed by `open_session` used to run
a session outside the tables with nobody's credential: the CLI signs every override
(`stimctl.cli.session_auth.sign_override`), the API did not. `open_session` now refuses
(AuthError, exit 10) a session whose verdict needs an override unless the override
carries a physician's signature that is on record, matches this session's override
content and was made after the session was prepared. Real SQLite store, real
credentials, the MagPro simulator on stimsim://.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from stimctl.clock import SimulatedClock, driving
from stimctl.errors import AuthError, ExitCode
from stimctl.identity import SigningGrant, insert_signature, require_role
from stimctl.identity.override_signing import (
    SIGNATURE_VALID_FOR,
    require_signed_override,
    sign_override,
)
from stimctl.journal import read
from stimctl.records import Store
from stimctl.safety import MotorThreshold, SiteRules, Subject
from stimctl.session.runner import Override, Prepared, prepare
from stimctl.session.simulation import SimulatedDevice, open_simulated_session
from tests.identity.people import SECRETS, register
from tests.session.harness import write_protocol

LONG_TRAINS = (
    'kind = "train"\nfrequency_hz = 10.0\ntrain_duration_s = 10.0\n'
    "inter_train_interval_s = 50.0\ntrains = 2"
)  # beyond the '>5 s' tested duration at 80 % RMT: an override verdict
REASON = "Hodaj regime, reviewed"


@pytest.fixture
def people(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STIMCTL_HOME", str(tmp_path / "home"))
    with Store.open() as store:
        register(store, "dr-lee", "op-ann")


def _prepared(tmp_path: Path, reason: str = REASON, operator: str = "dr-lee") -> Prepared:
    path = write_protocol(tmp_path, LONG_TRAINS, pct=80)
    subject = Subject(MotorThreshold(30.0, "emg", dt.date.today()))
    return prepare(
        path,
        subject,
        "magpro-x100",
        site=SiteRules(),
        override=Override(operator, reason),
        now=dt.datetime.now(dt.UTC),
    )


def _refused(prepared: Prepared, tmp_path: Path, match: str) -> None:
    journals = tmp_path / "journals"
    with SimulatedDevice(prepared.device, _clock()) as sim:
        with pytest.raises(AuthError, match=match) as caught:
            open_simulated_session(prepared, sim, journal_dir=journals)
        assert sim.pulse_log() == []
    assert caught.value.exit_code == ExitCode.AUTH
    assert not journals.exists() or not list(journals.glob("*.jsonl"))


def _clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.mark.usefixtures("people")
def test_an_unsigned_override_is_refused_before_the_session_opens(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path)
    assert prepared.override is not None and prepared.override.signature is None
    _refused(prepared, tmp_path, "not signed")


@pytest.mark.usefixtures("people")
def test_a_signature_made_up_in_memory_is_refused(tmp_path: Path) -> None:
    genuine = _prepared(tmp_path)
    with Store.open() as store:
        signed = sign_override(store, genuine, SECRETS["dr-lee"])
    assert signed.override is not None and signed.override.signature is not None
    forged = replace(signed.override.signature, id="not-on-record")
    _refused(
        replace(signed, override=replace(signed.override, signature=forged)), tmp_path, "record"
    )


@pytest.mark.usefixtures("people")
def test_a_signature_by_someone_who_may_not_sign_overrides_is_refused(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path, operator="op-ann")
    assert prepared.override is not None
    with pytest.raises(AuthError, match="physician"), Store.open() as store:
        sign_override(store, prepared, SECRETS["op-ann"])
    # signed around the check: an operator's grant written as the signature row
    with Store.open() as store:
        grant = SigningGrant(require_role(store, "op-ann", "operator", SECRETS["op-ann"]))
        with store.write() as conn:
            row = insert_signature(
                conn,
                grant,
                meaning="approved override",
                record_type="override",
                record_id="ov-1",
                content={},
            )
    override = replace(prepared.override, override_id="ov-1", signature=row)
    _refused(replace(prepared, override=override), tmp_path, "physician")


@pytest.mark.usefixtures("people")
def test_a_signature_of_another_override_is_refused(tmp_path: Path) -> None:
    other = _prepared(tmp_path, reason="another reason, another session")
    with Store.open() as store:
        signed_other = sign_override(store, other, SECRETS["dr-lee"])
    prepared = _prepared(tmp_path)
    assert prepared.override is not None and signed_other.override is not None
    moved = replace(
        prepared.override,
        override_id=signed_other.override.override_id,
        signature=signed_other.override.signature,
    )
    _refused(replace(prepared, override=moved), tmp_path, "does not match")


@pytest.mark.usefixtures("people")
def test_a_signature_kept_for_a_later_session_is_refused(tmp_path: Path) -> None:
    with Store.open() as store:
        signed = sign_override(store, _prepared(tmp_path), SECRETS["dr-lee"])
        assert signed.override is not None and signed.override.signature is not None
        at = signed.override.signature.signed_at
        require_signed_override(signed, store, now=at + SIGNATURE_VALID_FOR)  # still good
        later = at + SIGNATURE_VALID_FOR + dt.timedelta(seconds=1)
        with pytest.raises(AuthError, match="sign it again"):
            require_signed_override(signed, store, now=later)


@pytest.mark.usefixtures("people")
def test_a_wrong_password_signs_nothing(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path)
    with Store.open() as store, pytest.raises(AuthError):
        sign_override(store, prepared, "not-her-password")


@pytest.mark.usefixtures("people")
def test_an_override_signed_through_the_api_runs_and_is_journaled(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path)
    with Store.open() as store:
        signed = sign_override(store, prepared, SECRETS["dr-lee"])
    assert signed.override is not None and signed.override.signature is not None
    clock = _clock()
    with SimulatedDevice(signed.device, clock) as sim:
        engine = open_simulated_session(signed, sim, journal_dir=tmp_path / "journals")
        engine.start()
        summary = engine.wait(60)
        with driving(clock):
            engine.driver.close()
    assert summary.status == "completed"
    start = read(Path(summary.journal))[0]["payload"]
    assert start["override"]["signature"]["signer_id"] == "dr-lee"
    assert start["override"]["signature"]["id"] == signed.override.signature.id
