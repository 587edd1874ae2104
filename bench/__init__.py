"""The benchmarks: ``python -m bench`` runs them all (bench/cli.py); each script also runs alone."""
