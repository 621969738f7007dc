"""Helpers shared by the integration tests (run from tests/integration/)."""
