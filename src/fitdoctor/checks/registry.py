"""Imports every check module so its `@register` runs. One line per check module."""
