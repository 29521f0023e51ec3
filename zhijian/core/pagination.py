"""Pagination of the API (docs/api.md, "Pagination").

Registers use page numbers with a total count; regulators' lists are bounded by
jurisdiction. The public search runs over every entity of the province (a million rows),
where a COUNT would cost more than the page, so it pages by cursor: it reads page_size + 1
rows in index order (the extra row only says whether there is a next page) and returns
opaque next/previous links, never a count.
"""

from rest_framework import pagination


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class PublicSearchPagination(pagination.CursorPagination):
    """Keyset pages in hash-of-USCC order (MarketEntity.search_key, ties broken by the
    unique USCC): constant cost at any depth, no COUNT.

    Not in USCC order: the USCC carries the division, so the matches of a place-name
    fragment (西安, 延安) lie together in it and the index walk that fills a page met them
    only after hundreds of thousands of rows. The hash spreads them evenly
    (docs/benchmarks.md, "Public search"). The cursor holds a search_key; the queryset
    must load that field.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = ("search_key", "uscc")
