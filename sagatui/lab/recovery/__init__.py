"""Crash recovery: stored runs reopened in a new process, their unfinished sagas carried on from their
events (`resume`), and operator actions on runs no live session holds (sagatui.lab.attention)."""
