# The unique constraints come in a migration of their own: on PostgreSQL a table cannot be altered in the
# transaction that just rewrote its rows (0005's data step).

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0007_transparency_log"),
    ]

    operations = [
        migrations.AlterField(
            model_name='ledgerentry',
            name='leaf_hash',
            field=models.CharField(max_length=64, unique=True),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='uid',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
