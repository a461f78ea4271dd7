"""The racewatch board: the AI-race page served inside the Airflow UI by ``plugins/racewatch_board.py``.

This package is the library side (queries and HTML); it never imports Airflow, so it can be tested and
benchmarked without an Airflow installation and the plugin file stays a thin piece of wiring.
"""

from __future__ import annotations

from racewatch.board.queries import Board, read_board
from racewatch.board.render import RESPONSE_HEADERS, render_page

__all__ = ["RESPONSE_HEADERS", "Board", "read_board", "render_page"]
