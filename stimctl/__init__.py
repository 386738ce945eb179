"""stimctl: session control for repetitive transcranial magnetic stimulation.

Kept import-light on purpose: `stimctl check` must start fast, so sub-packages are
imported by the code that needs them, never from here.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
