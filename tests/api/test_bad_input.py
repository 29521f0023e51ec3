"""Bad input through the API: each refusal is clear, names the field (or row and
column), comes in the caller's language, uses the one error format, and writes nothing
(registers, audit log and outbox unchanged; the audit chain still verifies)."""

import contextlib
import fcntl
import json
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from tests.api.conftest import fingerprint, uscc
from zhijian.core import audit
from zhijian.core.identifiers import uscc_check_character
from zhijian.registry.models import MarketEntity

GOOD = uscc("610113", "ABC00001")  # 91610113ABC000013W


@pytest.fixture(scope="session", autouse=True)
def zh_hans_catalogue():
    """Compile the Simplified Chinese catalogue once per session (under a lock: xdist
    workers share the file), then drop Django's cached translations."""
    from django.utils.translation import trans_real

    locale = Path(settings.LOCALE_PATHS[0])
    # Run from inside the project's locale directory: compilemessages also walks the
    # working directory, which must not reach the virtualenv's packages.
    lock = Path(tempfile.gettempdir()) / "zhijian-compilemessages.lock"
    with open(lock, "w") as fh, contextlib.chdir(locale):
        fcntl.flock(fh, fcntl.LOCK_EX)
        call_command("compilemessages", locale=["zh_Hans"], verbosity=0)
    trans_real._translations = {}
    trans_real._default = None
    trans_real._active = trans_real.Local()


def with_check(first17: str) -> str:
    return first17 + uscc_check_character(first17)


def other(char: str) -> str:
    return "0" if char != "0" else "1"


# Each code has exactly one problem; English text in full, and the part the Chinese text
# must name.
USCC_PROBLEMS = [
    ("length", GOOD[:10],
     "A unified social credit code has 18 characters; this one has 10.", "18位"),
    ("alphabet", GOOD[:10] + "I" + GOOD[11:],
     "Character 11 (“I”) is not allowed: use digits and capital letters except I, O, Z, S "
     "and V.", "第11位"),
    ("registration_authority", with_check("X" + GOOD[1:17]),
     "Character 1 (“X”) is not a registration authority code of GB 32100.", "第1位"),
    ("entity_type", with_check("94" + GOOD[2:17]),
     "Character 2 (“4”) is not an entity type that registration authority “9” issues.",
     "第2位"),
    ("division", with_check("91999999" + GOOD[8:17]),
     "Characters 3–8 (“999999”) are not an administrative division code (GB/T 2260), "
     "current or historical.", "第3–8位"),
    ("org_code_check", with_check(GOOD[:16] + other(GOOD[16])),
     f"The organisation code in characters 9–17 fails its check digit (GB 11714): expected "
     f"“{GOOD[16]}”, found “{other(GOOD[16])}”.", "第9–17位"),
    ("check_character", GOOD[:17] + other(GOOD[17]),
     f"The check character (character 18) is wrong: expected “{GOOD[17]}”, found "
     f"“{other(GOOD[17])}”. Check the code for a typing error.", "第18位"),
]


def entity_body(**over):
    body = {"uscc": GOOD, "name": "西安新电缆有限公司", "division": "610113",
            "legal_representative": "张新", "categories": ["electrical.cable"]}
    return body | over


def post(api, body, lang="en", url="/api/v1/entities/"):
    return api.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE=lang)


def errors(resp):
    data = resp.json()
    assert set(data) == {"type", "errors"}
    for e in data["errors"]:
        assert set(e) == {"code", "detail", "attr"}
    return data["type"], [(e["attr"], e["detail"]) for e in data["errors"]]


@pytest.fixture
def officer(api, xian_officer):
    api.force_authenticate(xian_officer)
    return xian_officer


@pytest.mark.parametrize(("problem", "code", "english", "chinese_part"), USCC_PROBLEMS,
                         ids=[p[0] for p in USCC_PROBLEMS])
def test_invalid_uscc_names_the_part_in_both_languages(problem, code, english, chinese_part,
                                                       api, officer):
    before = fingerprint()
    en = post(api, entity_body(uscc=code), "en")
    assert en.status_code == 400
    assert errors(en) == ("validation_error", [("uscc", english)])

    zh = post(api, entity_body(uscc=code), "zh-hans")
    assert zh.status_code == 400
    kind, [(attr, detail)] = errors(zh)
    assert (kind, attr) == ("validation_error", "uscc")
    assert chinese_part in detail
    assert detail != english
    assert fingerprint() == before


def test_the_good_code_is_accepted(api, officer):
    """The control for the table above: only the broken part makes a code fail."""
    resp = post(api, entity_body())
    assert resp.status_code == 201, resp.content
    assert resp.json()["uscc"] == GOOD


def test_unknown_division(api, officer):
    before = fingerprint()
    en = post(api, entity_body(division="619999"), "en")
    assert en.status_code == 400
    assert errors(en) == ("validation_error", [
        ("division", "“619999” is not an administrative division code of the province.")])
    zh = post(api, entity_body(division="619999"), "zh-hans")
    assert errors(zh) == ("validation_error", [("division", "“619999”不是本省的行政区划代码。")])
    assert fingerprint() == before


def test_abolished_division_names_its_successor(api, officer):
    before = fingerprint()
    en = post(api, entity_body(division="610125"), "en")
    assert en.status_code == 400
    assert errors(en) == ("validation_error", [
        ("division", "Division 610125 户县 was abolished in 2016. "
                     "Use the current code 610118 鄠邑区.")])
    zh = post(api, entity_body(division="610125"), "zh-hans")
    kind, [(attr, detail)] = errors(zh)
    assert (kind, attr) == ("validation_error", "division")
    assert "610125" in detail and "撤销" in detail and "610118 鄠邑区" in detail
    assert fingerprint() == before


def test_duplicate_entity(api, officer, world):
    before = fingerprint()
    resp = post(api, entity_body(uscc=world["xian_entity"].uscc), "en")
    assert resp.status_code == 400
    assert errors(resp) == ("validation_error", [
        ("uscc", "An entity with this code is already registered.")])
    zh = post(api, entity_body(uscc=world["xian_entity"].uscc), "zh-hans")
    assert errors(zh) == ("validation_error", [("uscc", "使用该代码的市场主体已经登记。")])
    assert fingerprint() == before


def test_duplicate_entity_in_lower_case_is_still_a_duplicate(api, officer, world):
    before = fingerprint()
    resp = post(api, entity_body(uscc=world["xian_entity"].uscc.lower()), "en")
    assert resp.status_code == 400
    assert [a for a, _ in errors(resp)[1]] == ["uscc"]
    assert fingerprint() == before


def test_malformed_json(api, officer):
    before = fingerprint()
    resp = api.post("/api/v1/entities/", '{"uscc": "9161', content_type="application/json",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    data = resp.json()
    assert data["type"] == "client_error"
    assert [(e["code"], e["attr"]) for e in data["errors"]] == [("parse_error", None)]
    assert data["errors"][0]["detail"].startswith("JSON parse error")
    assert fingerprint() == before


def test_wrong_json_types(api, officer):
    before = fingerprint()
    resp = post(api, entity_body(categories="electrical.cable", division=["610113"]), "en")
    assert resp.status_code == 400
    assert errors(resp) == ("validation_error", [
        ("division", "Invalid value."),
        ("categories", 'Expected a list of items but got type "str".'),
    ])
    assert fingerprint() == before


def test_over_long_fields(api, officer):
    before = fingerprint()
    resp = post(api, entity_body(name="电" * 121, address="路" * 201), "en")
    assert resp.status_code == 400
    assert errors(resp) == ("validation_error", [
        ("name", "Ensure this field has no more than 120 characters."),
        ("address", "Ensure this field has no more than 200 characters."),
    ])
    zh = post(api, entity_body(name="电" * 121), "zh-hans")
    assert errors(zh) == ("validation_error", [("name", "请确保这个字段不能超过 120 个字符。")])
    assert fingerprint() == before


def test_xian_officer_cannot_register_in_baoji(api, officer):
    before = fingerprint()
    resp = post(api, entity_body(uscc=uscc("610302", "ABC00002"), division="610302"), "en")
    assert resp.status_code == 403
    assert resp.json() == {"type": "client_error", "errors": [{
        "code": "permission_denied", "detail": "Division 610302 is outside your jurisdiction.",
        "attr": "division"}]}
    zh = post(api, entity_body(uscc=uscc("610302", "ABC00002"), division="610302"), "zh-hans")
    assert errors(zh) == ("client_error", [("division", "行政区划 610302 不在您的管辖范围内。")])
    after = fingerprint()
    assert after["audit_entries"] == before["audit_entries"]
    assert after == before
    assert not MarketEntity.objects.filter(division_id="610302", name="西安新电缆有限公司").exists()
    assert audit.verify().ok


def test_xian_officer_cannot_move_an_entity_to_baoji(api, officer, world):
    before = fingerprint()
    resp = api.patch(f"/api/v1/entities/{world['xian_entity'].pk}/", {"division": "610302"},
                     format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 403
    assert errors(resp) == ("client_error", [
        ("division", "Division 610302 is outside your jurisdiction.")])
    assert fingerprint() == before


def test_enterprise_writing_a_regulator_field_is_refused_by_name(api, enterprise_user, world):
    api.force_authenticate(enterprise_user)
    before = fingerprint()
    resp = api.patch(f"/api/v1/entities/{world['xian_entity'].pk}/",
                     {"address": "新地址", "risk_class": "A"}, format="json",
                     HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 403
    assert errors(resp) == ("client_error", [
        ("risk_class", "This field is kept by the regulator; your organisation cannot change it.")])
    assert fingerprint() == before  # the allowed address change is refused with it


# --- CSV import ------------------------------------------------------------------------------

HEADER = "uscc,name,entity_type,division,legal_representative,categories,registered_on\n"


def csv_upload(text: str, name="entities.csv"):
    return {"file": SimpleUploadedFile(name, text.encode("utf-8"), "text/csv")}


def import_csv(api, text, lang="en", raw: bytes | None = None):
    upload = csv_upload(text) if raw is None else {
        "file": SimpleUploadedFile("entities.csv", raw, "text/csv")}
    return api.post("/api/v1/entities/import/", upload, format="multipart",
                    HTTP_ACCEPT_LANGUAGE=lang)


def test_csv_with_a_bad_row_is_refused_whole(api, officer):
    bad = GOOD[:17] + other(GOOD[17])
    text = (HEADER
            + f"{uscc('610113', 'CQW00001')},西安导入一有限公司,enterprise,610113,李一,electrical.cable,2020-01-02\n"
            + f"{bad},西安导入二有限公司,enterprise,610113,李二,electrical.cable,2020-01-03\n"
            + f"{uscc('610113', 'CQW00003')},西安导入三有限公司,enterprise,610113,李三,,2020-01-04\n")
    before = fingerprint()
    resp = import_csv(api, text)
    assert resp.status_code == 400
    assert errors(resp) == ("validation_error", [
        ("rows.3.uscc", f"The check character (character 18) is wrong: expected “{GOOD[17]}”, "
                        f"found “{other(GOOD[17])}”. Check the code for a typing error.")])
    after = fingerprint()
    assert after["audit_entries"] == before["audit_entries"]
    assert after == before
    assert audit.verify().ok


def test_csv_names_every_bad_cell(api, officer, world):
    text = (HEADER
            + f"{world['baoji_entity'].uscc},重复有限公司,enterprise,610113,李一,,\n"
            + f"{uscc('610113', 'CQW00002')},西安导入二有限公司,company,610125,李二,no.such,2020-13-01\n"
            + f"{uscc('610113', 'CQW00002')},,enterprise,619999,李三,,\n"
            + f"{uscc('610302', 'CQW00005')},宝鸡导入有限公司,enterprise,610302,李五,,\n")
    before = fingerprint()
    resp = import_csv(api, text)
    assert resp.status_code == 400
    assert errors(resp) == ("validation_error", [
        ("rows.2.uscc", "An entity with this code is already registered."),
        ("rows.3.division", "Division 610125 was abolished; use 610118."),
        ("rows.3.entity_type", "Use one of: enterprise, individual, cooperative, other."),
        ("rows.3.registered_on", "Enter a date as YYYY-MM-DD."),
        ("rows.3.categories", "Unknown product category codes: no.such."),
        ("rows.4.name", "This field is required."),
        ("rows.4.uscc", "Duplicate of row 3 in this file."),
        ("rows.4.division", "“619999” is not an administrative division code of the province."),
        ("rows.5.division", "Division 610302 is outside your jurisdiction."),
    ])
    assert fingerprint() == before


def test_csv_errors_in_chinese(api, officer):
    text = HEADER + f"{uscc('610113', 'CQW00001')},西安导入一有限公司,enterprise,610125,李一,,\n"
    resp = import_csv(api, text, lang="zh-hans")
    assert resp.status_code == 400
    assert errors(resp) == ("validation_error", [
        ("rows.2.division", "行政区划 610125 已撤销，请使用 610118。")])


def test_csv_missing_columns_not_utf8_and_empty(api, officer):
    before = fingerprint()
    resp = import_csv(api, "uscc,name\n")
    assert errors(resp) == ("validation_error", [
        ("file", "Missing columns: division, legal_representative.")])
    resp = import_csv(api, "", raw=(HEADER + "9161,西安\n").encode("gb18030"))
    assert errors(resp) == ("validation_error", [
        ("file", "The file is not UTF-8 text. Save it as CSV UTF-8.")])
    resp = import_csv(api, HEADER)
    assert errors(resp) == ("validation_error", [("file", "The file has no data rows.")])
    resp = api.post("/api/v1/entities/import/", {}, format="multipart",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == ("validation_error", [("file", "Attach a CSV file.")])
    assert fingerprint() == before


def test_csv_import_writes_every_row_and_its_audit_entry(api, officer):
    text = (HEADER
            + f"{uscc('610113', 'CQW00001')},西安导入一有限公司,enterprise,610113,李一,electrical.cable,2020-01-02\n"
            + f"{uscc('610102', 'CQW00002')},西安导入二有限公司,individual,610102,李二,,\n")
    before = fingerprint()
    resp = import_csv(api, text.replace("\n", "\r\n"))  # as spreadsheets save it
    assert resp.status_code == 201, resp.content
    assert resp.json() == {"total": 2, "created": 2}
    assert fingerprint()["audit_entries"] == before["audit_entries"] + 2
    one = MarketEntity.objects.get(name="西安导入一有限公司")
    assert (one.division_id, one.entity_type, str(one.registered_on),
            list(one.categories.values_list("code", flat=True))) == (
        "610113", "enterprise", "2020-01-02", ["electrical.cable"])
    assert audit.verify().ok


# --- unknown URLs under /api/ ------------------------------------------------------------------

NOT_FOUND = {"type": "client_error",
             "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}]}


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v1/entities/1/nope/", "/api/nope",
                                  "/api/v2/entities/", "/api/v1/entities/abc/"])
def test_unknown_api_urls_are_json_404(path, api, officer):
    resp = api.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 404
    assert resp["Content-Type"].startswith("application/json")
    assert json.loads(resp.content) == NOT_FOUND


def test_unknown_api_url_is_json_even_in_debug(api, settings):
    settings.DEBUG = True
    for method in ("get", "post"):
        resp = getattr(api, method)("/api/v1/nope/", HTTP_ACCEPT_LANGUAGE="en")
        assert resp.status_code == 404
        assert resp["Content-Type"].startswith("application/json")
        assert json.loads(resp.content) == NOT_FOUND


def test_not_found_in_chinese(api):
    resp = api.get("/api/v1/nope/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert json.loads(resp.content)["errors"][0]["detail"] == "未找到。"


def test_public_search_needs_two_characters(api, world):
    resp = api.get("/api/v1/public/entities/?q=西", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert errors(resp) == ("validation_error", [("q", "Enter at least 2 characters.")])
