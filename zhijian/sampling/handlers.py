"""Event subscribers of the sampling app."""
