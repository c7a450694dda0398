"""The same as users/migrations/0007_index_knows_what_it_holds.py, on MongoDB."""

from importlib import import_module

import django.db.models.deletion
import django_mongodb_backend.fields
from django.db import migrations, models


sql = import_module("users.migrations.0007_index_knows_what_it_holds")


class Migration(migrations.Migration):

    dependencies = [
        ('users', '0003_validator'),
    ]

    operations = [
        migrations.CreateModel(
            name='IndexIdentity',
            fields=[
                ('id', django_mongodb_backend.fields.ObjectIdAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(default='default', editable=False, max_length=20, unique=True)),
                ('token', models.CharField(editable=False, max_length=32, unique=True)),
                ('checkpoint', models.PositiveBigIntegerField(default=0, editable=False)),
            ],
            options={
                'verbose_name': 'ranking index identity',
            },
        ),
        migrations.RunPython(sql.make_identity, migrations.RunPython.noop),
        migrations.CreateModel(
            name='PendingRange',
            fields=[
                ('id', django_mongodb_backend.fields.ObjectIdAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ],
        ),
        migrations.AddField(
            model_name='user',
            name='index_pending',
            field=models.BooleanField(db_default=True, default=True, editable=False),
        ),
        migrations.AddIndex(
            model_name='user',
            index=models.Index(condition=models.Q(('index_pending', True)), fields=['id'], name='users_user_index_pending_idx'),
        ),
        migrations.AddField(
            model_name='pendingrange',
            name='first',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='users.user'),
        ),
        migrations.AddField(
            model_name='pendingrange',
            name='last',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='users.user'),
        ),
    ]
