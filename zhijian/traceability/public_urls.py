"""GS1 Digital Link paths on this site (mounted at the root): the public trace page a
product's QR label opens (public_views.py). The GTIN may be written with 13 or 14 digits
(or 8 or 12); a trailing slash is optional."""

from django.urls import re_path

from . import public_views

app_name = "public_trace"

urlpatterns = [
    re_path(r"^01/(?P<gtin>[^/]+)/10/(?P<lot>[^/]+)/?$", public_views.batch, name="batch"),
    re_path(r"^01/(?P<gtin>[^/]+)/21/(?P<serial>[^/]+)/?$", public_views.item, name="item"),
    re_path(r"^01/(?P<gtin>[^/]+)/?$", public_views.product, name="product"),
]
