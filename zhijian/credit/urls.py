"""/work/credit/: the working pages of quality credit, one URL module per area."""

from django.urls import include, path

app_name = "credit"

urlpatterns = [
    path("", include("zhijian.credit.urls_records")),    # records/, penalties/, commitments/
    path("", include("zhijian.credit.urls_rating")),     # the credit file, ratings, supervision/
    path("", include("zhijian.credit.urls_blacklist")),  # blacklist/, repairs/
    path("", include("zhijian.credit.urls_measures")),   # measures/, checks/, tokens/
]
