"""`zhijian export_draw latest|ID [--output FILE]`: the canonical bundle of a draw."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from zhijian.inspections import draw, services
from zhijian.inspections.management.commands.export_draw import Command

DICE = "3 5 1 6 2 4 4 1 5 3"


def export(*args) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("export_draw", *args, stdout=out)
    return out.getvalue()


def refused(*args) -> str:
    with translation.override("en"), pytest.raises(CommandError) as exc:
        call_command("export_draw", *args, stdout=StringIO())
    return str(exc.value)


@pytest.fixture
def drawn(draft_plan, xian_officer):
    d = services.plan_publish(actor=xian_officer, plan=draft_plan)
    return services.draw_seed(actor=xian_officer, draw_id=d.pk, dice=DICE, witnesses="张三")


def test_latest_prints_the_canonical_bundle_that_verifies(drawn):
    text = export("latest")
    assert text == draw.canonical(drawn.bundle()).decode() + "\n"
    bundle = draw.loads(text)
    assert [c.name for c in draw.verify_bundle(bundle) if not c.ok] == []
    assert bundle["commitment"]["sha256"] == drawn.commitment_sha256


def test_latest_is_the_draw_that_stands_and_an_id_gives_any_seeded_draw(drawn, xian_officer):
    new = services.draw_redraw(actor=xian_officer, draw_id=drawn.pk,
                               reason="两名检查员调离，检查人员库已更新")
    # The new draw waits for its seed: "latest" is still none of the superseded ones.
    assert refused("latest") == ("No draw has been drawn yet, so there is no bundle to "
                                 "export. Publish a plan and enter its seed first.")
    assert export(str(drawn.pk)) == draw.canonical(drawn.bundle()).decode() + "\n"
    new = services.draw_seed(actor=xian_officer, draw_id=new.pk, dice="6543216543",
                             witnesses="李四")
    assert draw.loads(export("LATEST"))["seed"]["sha256"] == new.seed


def test_output_writes_exactly_the_canonical_bytes(drawn, tmp_path):
    target = tmp_path / "bundle.json"
    message = export(str(drawn.pk), "--output", str(target))
    data = target.read_bytes()
    assert data == draw.canonical(drawn.bundle())
    assert message == (f"Wrote the bundle of draw {drawn.pk} (plan SJ-2026-0001, draw number 1) "
                       f"to {target}: {len(data)} bytes, SHA-256 {draw.sha256_hex(data)}.\n")
    assert draw.main([str(target)], out=StringIO()) == 0


def test_unwritable_output_is_refused(drawn, tmp_path):
    target = tmp_path / "missing-dir" / "bundle.json"
    assert refused("latest", "-o", str(target)) == (
        f"Cannot write {target}: No such file or directory")


def test_no_drawn_draw(db):
    assert refused("latest") == ("No draw has been drawn yet, so there is no bundle to "
                                 "export. Publish a plan and enter its seed first.")


def test_unknown_and_malformed_ids(drawn):
    assert refused(str(drawn.pk + 100)) == (
        f"There is no draw {drawn.pk + 100}. The draws are listed at /api/v1/draws/.")
    assert refused("the-last-one") == (
        "the-last-one is not a draw id: give the number of a draw or “latest”.")


def test_a_draw_without_its_seed_has_no_bundle_yet(draft_plan, xian_officer):
    d = services.plan_publish(actor=xian_officer, plan=draft_plan)
    assert refused(str(d.pk)) == (f"Draw {d.pk} (plan SJ-2026-0001) has no seed yet; its "
                                  "bundle exists once the seed is entered.")


def test_the_command_has_help():
    parser = Command().create_parser("zhijian", "export_draw")
    text = parser.format_help()
    assert "canonical JSON" in text
    assert "latest|ID" in text and "--output FILE" in text
