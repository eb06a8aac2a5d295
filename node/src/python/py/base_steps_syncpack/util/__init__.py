"""Helpers of the Base Steps pack's steps (HTTP, cache keys, SQL building,
database sessions, optional client libraries)."""
