"""Browser tests (a package, so their module names do not clash with the unit tests' names)."""
