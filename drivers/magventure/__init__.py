"""MagVenture MagPro driver (device-protocols part B). `codec` is the pure wire format."""

from drivers.magventure._magpro import MagProDriver

__all__ = ["MagProDriver"]
