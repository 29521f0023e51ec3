"""Event subscribers of the procurement app."""
