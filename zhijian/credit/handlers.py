"""Event subscribers of the quality-credit module: each area registers its own in its
handlers module (imported here so that AppConfig.ready() registers them all)."""
from . import (
    handlers_blacklist,  # noqa: F401,E402  (list proposals from credit records)
    handlers_rating,  # noqa: E402,F401
    handlers_records,  # noqa: F401,E402  (credit records from domain events)
)
