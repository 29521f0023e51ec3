"""/api/v1/ endpoints of quality credit, one router per area (each module's `router`)."""

from . import blacklist, measures, public, rating, records

routers = [records.router, rating.router, blacklist.router, measures.router, public.router]
