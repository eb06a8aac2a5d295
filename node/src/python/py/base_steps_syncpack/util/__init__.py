"""Helpers of the Base Steps pack's steps (HTTP, cache keys)."""
