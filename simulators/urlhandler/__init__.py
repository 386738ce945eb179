"""pyserial URL handlers of stimctl: `protocol_stimsim` serves `stimsim://` URLs.

Installed only by `simulators.install_url_handler()`, never on import.
"""
