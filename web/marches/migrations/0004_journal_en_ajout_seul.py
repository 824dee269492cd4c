"""The audit trail refuses UPDATE and DELETE in the database (web.marches.append_only)."""

from django.db import migrations


def install(apps, schema_editor):
    from web.marches.append_only import statements

    for sql in statements(schema_editor.connection.vendor):
        schema_editor.execute(sql)


def remove(apps, schema_editor):
    from web.marches.append_only import statements

    for sql in statements(schema_editor.connection.vendor, create=False):
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ("marches", "0003_journal_suivi"),
    ]

    operations = [migrations.RunPython(install, remove)]
