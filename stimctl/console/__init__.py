"""The operator console (Textual). Built in issue 6; until then `run` needs --headless."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stimctl.errors import ConfigError

if TYPE_CHECKING:
    from stimctl.session.engine import SessionEngine
    from stimctl.session.runner import Prepared
    from stimctl.session.summary import Summary


def run_console(engine: SessionEngine, prepared: Prepared) -> Summary:
    engine.driver.close()
    raise ConfigError("the operator console is not available yet: use --headless")
