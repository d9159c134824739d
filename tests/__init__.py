"""The test suite (a package, so tests import their support modules as `tests._x`)."""
