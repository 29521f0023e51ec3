"""docs/api.md stays true: its CSV example imports, and it lists every import column."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhijian.registry import services
from zhijian.registry.models import MarketEntity

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"


@pytest.fixture(autouse=True)
def _fast_personas(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_csv_example_imports(api, admin_user):
    example = re.search(r"```csv\n(.*?)```", API_MD.read_text(), re.S).group(1)
    api.force_authenticate(admin_user)
    resp = api.post("/api/v1/entities/import/",
                    {"file": SimpleUploadedFile("example.csv", example.encode(), "text/csv")},
                    format="multipart")
    assert resp.status_code == 201, resp.content
    assert resp.json() == {"total": 2, "created": 2}
    assert set(MarketEntity.objects.filter(name__startswith="西安示例").values_list(
        "uscc", flat=True)) == {"91610113ABC000013W", "91610102ABC000021R"}


def test_every_import_column_is_documented():
    text = API_MD.read_text()
    section = text[text.index("## CSV import"):text.index("## Public endpoints")]
    documented = re.findall(r"^\| `(\w+)` \| (yes|no) \|", section, re.M)
    assert len(documented) == len(services.IMPORT_COLUMNS)
    assert {c for c, _ in documented} == set(services.IMPORT_COLUMNS)
    assert {c for c, req in documented if req == "yes"} == services.REQUIRED_COLUMNS
