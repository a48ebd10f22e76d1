"""The ``thermolearn`` command: one subcommand per job."""
