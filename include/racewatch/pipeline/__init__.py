"""Pipeline stages, each a plain function that the DAGs and ``racewatch run-once`` both call."""
