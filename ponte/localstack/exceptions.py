"""Errors of the local stack."""


class LocalStackError(Exception):
    """The local stack could not start or run a component."""
