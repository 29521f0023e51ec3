"""Event subscribers of the reports app."""
