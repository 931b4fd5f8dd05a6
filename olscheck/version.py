"""The version of olscheck (one place; the package, the reports and the CLI read it)."""

__version__ = "0.1.0"
