"""Scenario files: schema, loader (extends, overrides), located errors."""
