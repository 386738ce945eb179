"""Vendor drivers for stimctl, found through the `stimctl.drivers` entry points.

Each vendor package splits a pure `codec` (frames, checksums, parsing; no I/O) from the
driver classes (I/O, threads, state). Drivers import `stimctl`, never `simulators`.
"""
