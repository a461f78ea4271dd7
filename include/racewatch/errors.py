"""Exceptions that carry context and chain their cause (dlt's habit).

Each one renders as a single readable line, so the CLI and task logs can show ``str(exc)`` to a user
instead of a traceback.
"""

from __future__ import annotations


class RacewatchError(Exception):
    """Base class: a problem a user can act on, described in one line."""


class SourcesError(RacewatchError):
    """The sources file (or an OPML import) is malformed."""


class StoreError(RacewatchError):
    """The DuckDB store could not be opened or written (after retries)."""


class StoreLockedError(StoreError):
    """Another process holds the DuckDB file; the batch stays landed and is loaded by the next run."""
