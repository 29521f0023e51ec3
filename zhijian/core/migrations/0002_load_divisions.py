"""Load the GB/T 2260 divisions of the province (current and historical) shipped in
zhijian/core/data/gbt2260_shaanxi.json; `zhijian load_divisions` refreshes them later."""

from django.db import migrations


def load(apps, schema_editor):
    from zhijian.core.divisions import shaanxi_divisions

    Division = apps.get_model("core", "Division")
    objects = Division.objects.using(schema_editor.connection.alias)
    rows = shaanxi_divisions()
    for d in rows:
        objects.update_or_create(
            code=d["code"],
            defaults={
                "name": d["name"],
                "name_en": d.get("name_en") or "",
                "level": d["level"],
                "valid_from": d["valid_from"],
                "valid_to": d["valid_to"],
            },
        )
    for d in rows:
        objects.filter(code=d["code"]).update(
            parent_id=d["parent"], successor_id=d.get("successor")
        )


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
