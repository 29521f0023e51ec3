"""Event subscribers of the quality-credit module: each area registers its own in its
handlers module (imported here so that AppConfig.ready() registers them all)."""
