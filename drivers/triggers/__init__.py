"""Trigger lines into a stimulator's Trigger In (issue 18): one module per kind of
hardware, each a `stimctl.hal.TriggerLine` found through the entry-point group
`stimctl.trigger_lines` by URL scheme (see docs/lab-triggers.md)."""
