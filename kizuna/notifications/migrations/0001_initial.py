"""The one notifications table (rows are copied from the two old tables by 0002)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Notification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('module', models.CharField(max_length=40)),
                ('kind', models.CharField(max_length=32)),
                ('ref', models.CharField(max_length=128)),
                ('record_id', models.BigIntegerField(blank=True, null=True)),
                ('key', models.CharField(max_length=200)),
                ('detail', models.JSONField(blank=True, default=dict)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('read_at', models.DateTimeField(blank=True, null=True)),
                ('emailed_at', models.DateTimeField(blank=True, null=True)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['user', 'read_at', 'created_at'], name='notice_inbox'), models.Index(fields=['user', 'read_at', 'module', 'record_id'], name='notice_record_id'), models.Index(fields=['emailed_at', 'user'], name='notice_outbox'), models.Index(fields=['ref', 'module'], name='notice_record')],
                'constraints': [models.UniqueConstraint(fields=('user', 'module', 'key'), name='notice_once')],
            },
        ),
    ]
