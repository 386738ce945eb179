"""The one door through which a command loads a stimulator driver.

Clinical mode loads only the drivers on the site's allow-list (issue 13 item 6). The
session engine applied it, but `rmt hunt/curve/paired/hotspot`, `devices probe` and
`selftest --port` loaded drivers with the registry's plain `load_driver`, so an
unapproved distribution's code was imported and talked to the stimulator. Every path
that opens a device now loads its driver here; tests/hal/test_driver_gate.py fails if a
module other than the registry, this gate and the session engine calls a loader.

The site is the one in force (`stimctl.site.load_site`: $STIMCTL_SITE, else the shipped
default, which is clinical) unless the caller passes its own. The check imports nothing,
so call `check_site_driver` before opening anything a refusal would leave behind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stimctl.hal._registry import SHIPPED_DRIVERS, check_allowed, load_driver

if TYPE_CHECKING:
    from stimctl.hal import Stimulator
    from stimctl.safety.inputs import SiteRules


def site_allowed_drivers(site: SiteRules) -> tuple[tuple[str, str], ...] | None:
    """The drivers `site` lets load: in clinical mode its allow-list (default: the shipped
    four); None (any installed driver) in research mode."""
    if site.mode != "clinical":
        return None
    return site.drivers if site.drivers is not None else SHIPPED_DRIVERS


def _site(site: SiteRules | None) -> SiteRules:
    if site is not None:
        return site
    from stimctl.site import load_site

    return load_site()


def check_site_driver(name: str, site: SiteRules | None = None) -> None:
    """Refuse (`DriverNotAllowed`, exit 2) a driver the site does not allow; imports nothing."""
    check_allowed(name, site_allowed_drivers(_site(site)))


def load_site_driver(name: str, site: SiteRules | None = None) -> type[Stimulator]:
    """The driver class `name`, loaded only if the site allows it."""
    check_site_driver(name, site)
    return load_driver(name)


__all__ = ["check_site_driver", "load_site_driver", "site_allowed_drivers"]
