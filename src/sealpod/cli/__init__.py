"""Command line: argument parsing, output formatting and exit codes; it calls ``engine`` only."""
