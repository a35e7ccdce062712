"""Importer tests: one folder per format, with what they share here (test_round_trip.py: the
round trip of every example through each format; fixtures/). This conftest puts this folder on
sys.path, so the per-format tests import those helpers by name."""
