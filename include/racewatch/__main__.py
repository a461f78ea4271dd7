"""``python -m racewatch`` is the same as the ``racewatch`` command."""

from racewatch.cli import main

raise SystemExit(main())
