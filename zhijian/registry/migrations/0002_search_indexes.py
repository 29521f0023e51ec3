"""An index for the public search of market entities by name fragment (PostgreSQL only).

Chinese names are searched by fragments of two to four characters, and two-character
fragments ("西安", "电缆") are the most common. A trigram index (pg_trgm) cannot serve
them: `name LIKE '%西安%'` yields no trigram, so PostgreSQL scanned the whole table
(measured: seconds over 1,000,000 entities, docs/benchmarks.md, "Public search"). This
migration indexes the set of character bigrams of each name instead:

    zhijian_bigrams('西安电缆') = {西安, 安电, 电缆}

and MarketEntityQuerySet.search asks for `zhijian_bigrams(name) @> <bigrams of the
fragment> AND name LIKE '%fragment%'`: the GIN index finds the candidates, LIKE confirms
them. ANALYZE keeps statistics on the indexed expression, so the planner knows a common
bigram from a rare one. SQLite has no such index; there the migration does nothing and
search scans.
"""

from django.db import migrations

TABLE = "registry_marketentity"

# Distinct substrings of two characters, in a stable order. IMMUTABLE and STRICT: it may
# index an expression, and NULL gives NULL. Python's zhijian.registry.models.bigrams
# computes the same set for the query side.
FUNCTION = """
CREATE OR REPLACE FUNCTION zhijian_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(value, i, 2) ORDER BY substr(value, i, 2)),
                    '{}'::text[])
    FROM generate_series(1, length(value) - 1) AS i
$$
"""
# USCCs are ASCII: under the "C" collation the unique index on uscc serves both
# `uscc LIKE 'prefix%'` and ORDER BY uscc, so a code-prefix search reads 21 index entries
# instead of sorting every entity of a division (the default collation's index cannot
# serve LIKE). Django does not track this collation: a later AlterField on uscc must
# repeat it.
FORWARD = [
    f'ALTER TABLE {TABLE} ALTER COLUMN uscc TYPE varchar(18) COLLATE "C"',
    FUNCTION,
    f"CREATE INDEX IF NOT EXISTS registry_entity_name_bigrams ON {TABLE} "
    "USING gin (zhijian_bigrams(name))",
]
BACKWARD = [
    "DROP INDEX IF EXISTS registry_entity_name_bigrams",
    "DROP FUNCTION IF EXISTS zhijian_bigrams(text)",
    f'ALTER TABLE {TABLE} ALTER COLUMN uscc TYPE varchar(18) COLLATE "default"',
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(run(FORWARD), run(BACKWARD), elidable=False),
    ]
