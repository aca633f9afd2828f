"""sagatui: run sagas, break their services on purpose, and watch the failure handling."""

__version__ = "0.1.0"
