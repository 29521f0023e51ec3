"""The order of public search results: a hash of the USCC instead of the USCC itself.

The public search paged in USCC order. The USCC carries the registering division, and
names begin with a place, so the entities matching a common place-name fragment (延安:
about 5 % of all) lie together in USCC order; PostgreSQL, walking the USCC index to fill
a page, met the first match after more than half of all entities (docs/benchmarks.md,
"Public search"). This migration adds `search_key`, the first 53 bits of SHA-256 of the
USCC as an integer (zhijian.registry.models.uscc_search_key), fills it for
the existing entities, and indexes (search_key, uscc), the cursor ordering of
PublicSearchPagination. In hash order matches are spread evenly over the walk.

New rows get the key from the model field's pre_save (save and bulk_create alike).
"""

from django.db import migrations, models

import zhijian.registry.models

TABLE = "registry_marketentity"

# The same value as uscc_search_key(): sha256 is built into PostgreSQL 11+; the first 16
# hex digits as bit(64), shifted right by 11 bits (a logical shift on a bit string, so the
# result is not negative), read as bigint. One statement fills a million rows in under a
# minute, where a Python loop would take many.
SEARCH_KEY_SQL = (
    "(('x' || left(encode(sha256(convert_to(uscc, 'UTF8')), 'hex'), 16))::bit(64) >> 11)"
    "::bigint"
)


def fill(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(f"UPDATE {TABLE} SET search_key = {SEARCH_KEY_SQL}")  # noqa: S608
        # Statistics for the new column now, not at the next autovacuum: the planner
        # weighs the walk of the new index with them.
        schema_editor.execute(f"ANALYZE {TABLE}")
        return
    MarketEntity = apps.get_model("registry", "MarketEntity")
    uscc_search_key = zhijian.registry.models.uscc_search_key
    entities = MarketEntity.objects.using(connection.alias).only("uscc").order_by("pk")
    last = 0
    while batch := list(entities.filter(pk__gt=last)[:2000]):
        for entity in batch:
            entity.search_key = uscc_search_key(entity.uscc)
        MarketEntity.objects.using(connection.alias).bulk_update(batch, ["search_key"])
        last = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0002_search_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="marketentity",
            name="search_key",
            field=models.BigIntegerField(editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="marketentity",
            name="search_key",
            field=zhijian.registry.models.SearchKeyField(verbose_name="public search order"),
        ),
        migrations.AddIndex(
            model_name="marketentity",
            index=models.Index(fields=["search_key", "uscc"], name="registry_entity_search_order"),
        ),
    ]
