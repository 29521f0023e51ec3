"""The public portal shows only what is disclosed, pages big lists without COUNT(*), and
publishes the signed audit checkpoints with what a third party needs to check them."""

import re
import shutil
import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from zhijian.core import audit
from zhijian.core.models import AuditCheckpoint, PublicKey


def test_search_shows_public_fields_only(as_user, world):
    entity = world["xian_entity"]
    entity.contact_phone = "029-86868686"
    entity.address = "西安市雁塔区保密路9号"
    entity.chief_quality_officer = "钱质量"
    entity.legal_representative = "周法人"
    entity.save()
    html = as_user(None).get("/search/?q=西安测试").content.decode()
    assert "西安测试电缆有限公司" in html and entity.uscc in html
    for secret in ("029-86868686", "保密路", "钱质量", "周法人"):
        assert secret not in html
    assert "宝鸡测试钢铁有限公司" not in html


def test_search_needs_two_characters(as_user, world):
    html = as_user(None, "zh-hans").get("/search/?q=西").content.decode()
    assert '<div class="invalid-feedback d-block" id="q_error">请至少输入 2 个字符。</div>' in html
    assert 'id="search-results"' not in html


def test_search_pages_without_counting(as_user, world):
    for i in range(25):
        f.EntityFactory(name=f"翻页测试{i:02d}有限公司")
    client = as_user(None, "en")
    with CaptureQueriesContext(connection) as queries:
        first = client.get("/search/?q=翻页测试").content.decode()
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert first.count("翻页测试") == 20 + 1  # 20 rows and the search box value
    assert "Showing 1–20" in first and 'href="?q=%E7%BF%BB%E9%A1%B5%E6%B5%8B%E8%AF%95&amp;page=2"' in first
    second = client.get("/search/?q=翻页测试&page=2").content.decode()
    assert "Showing 21–25" in second and 'rel="next"' not in second


def test_public_lab_page_lists_scopes_but_not_internal_fields(as_user, world):
    lab = world["lab"]
    f.ScopeFactory(lab=lab, standard=f.StandardFactory(code="GB/T 3956-2008"),
                   parameter="导体电阻")
    html = as_user(None).get(f"/labs/{lab.pk}/").content.decode()
    assert "GB/T 3956-2008" in html and "导体电阻" in html
    assert "每月可出具报告数" not in html
    assert 'id="history"' not in html


def test_public_departments_and_matrix(as_user, world):
    html = as_user(None).get("/departments/?kind=housing").content.decode()
    assert "西安市住房和城乡建设局" in html and "西安市市场监督管理局" not in html
    matrix = as_user(None, "en").get("/matrix/").content.decode()
    assert "12 blind spots" in matrix


@pytest.fixture
def checkpoint(world, xian_officer):
    from zhijian.registry import services

    services.entity_update(actor=xian_officer, entity_id=world["xian_entity"].pk,
                           data={"contact_phone": "029-1"}, reason="测试")
    return audit.checkpoint_create()


def test_audit_page_publishes_checkpoints_and_keys(as_user, checkpoint):
    key = PublicKey.objects.get(key_id=checkpoint.key_id)
    html = as_user(None, "zh-hans").get("/audit/").content.decode()
    row = html[html.index(f'id="checkpoint-{checkpoint.seq}"'):]
    row = row[:row.index("</tr>")]
    for value in (str(checkpoint.seq), checkpoint.hash, checkpoint.key_id, checkpoint.signature):
        assert value in row
    assert key.public_key in html
    assert "zhijian-audit-checkpoint:v1:&lt;seq&gt;:&lt;hash&gt;" in html
    assert 'href="/api/v1/docs/"' in html


@pytest.mark.skipif(shutil.which("openssl") is None or shutil.which("xxd") is None,
                    reason="needs openssl and xxd")
def test_the_published_openssl_recipe_verifies_a_checkpoint(as_user, checkpoint, tmp_path):
    """The instructions on /audit/ work as written, with nothing but OpenSSL."""
    html = as_user(None).get("/audit/").content.decode()
    recipe = re.search(r'id="openssl-example"><code>(.*?)</code>', html, re.S).group(1)
    key = PublicKey.objects.get(key_id=checkpoint.key_id)
    script = (recipe.replace("&gt;", ">").replace("&#x27;", "'")
              .replace("SEQ", str(checkpoint.seq)).replace("HASH", checkpoint.hash)
              .replace("SIGNATURE_HEX", checkpoint.signature)
              .replace("PUBLIC_KEY_HEX", key.public_key))
    ok = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "Signature Verified Successfully" in ok.stdout
    forged = script.replace(f":{checkpoint.seq}:", f":{checkpoint.seq + 1}:")
    bad = subprocess.run(["bash", "-c", forged], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode != 0


def test_audit_page_without_checkpoints(as_user, db):
    assert AuditCheckpoint.objects.count() == 0
    html = as_user(None, "en").get("/audit/").content.decode()
    assert 'id="no-checkpoints"' in html
