"""Protocol files: models, loading and derived figures."""

from stimctl.protocol.derived import Derived, ProtocolClass, derive, train_intensity_percent_rmt
from stimctl.protocol.loader import load_protocol
from stimctl.protocol.models import SCHEMA_VERSION, Protocol

__all__ = [
    "SCHEMA_VERSION",
    "Derived",
    "Protocol",
    "ProtocolClass",
    "derive",
    "load_protocol",
    "train_intensity_percent_rmt",
]
