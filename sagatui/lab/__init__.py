"""The run layer's lab: one run of a pack, driven by typed commands, seen through a read-only view."""

from sagatui.lab.command_desk import InvalidCommand
from sagatui.lab.run import Lab, Pacing, pack_hash
from sagatui.lab.view import BreakerView, LabView
from sagatui.lab.workload import Load

__all__ = ["BreakerView", "InvalidCommand", "Lab", "LabView", "Load", "Pacing", "pack_hash"]
