"""pg_trgm and a GIN trigram index on UPPER(column) (the expression Django's icontains compares)
for every column a list search matches by substring (PostgreSQL only).

On SQLite, the embedded default, this migration does nothing: its searches stay plain LIKE scans.
See listing/search_indexes.py for why trigrams rather than a word index.
"""

from django.db import migrations

from listing.search_indexes import TRIGRAM_COLUMNS, index_name


def _tables(apps):
    for app_label, model_name, column in TRIGRAM_COLUMNS:
        yield apps.get_model(app_label, model_name)._meta.db_table, column


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column in _tables(apps):
        name = index_name(table, column)
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in _tables(apps):
        schema_editor.execute(f'DROP INDEX IF EXISTS "{index_name(table, column)}"')


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("flows", "0012_list_indexes_jurisdiction_first"),
        ("registers", "0008_warning_causes_and_new_rules"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
