"""The meeting cycle: agenda and minutes publication, minutes parts and decisions, action details, the STIX identity
(uuid) and received copies (stix_id) of every shareable record, notifications and per-user calendar settings."""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


def fill_uuids(model_name: str):  # type: ignore[no-untyped-def]
    def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
        model = apps.get_model("consultations", model_name)
        for pk in model.objects.filter(uuid__isnull=True).values_list("pk", flat=True).iterator():
            model.objects.filter(pk=pk).update(uuid=uuid.uuid4())
    return fill


class Migration(migrations.Migration):

    dependencies = [
        ('consultations', '0001_initial'),
        ('core', '0002_initial'),
        ('directory', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CalendarSettings',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email_mode', models.CharField(choices=[('immediate', 'An email for each notification'), ('daily', 'One daily digest'), ('off', 'No email (inbox only)')], default='immediate', max_length=20)),
                ('last_digest_at', models.DateTimeField(blank=True, null=True)),
                ('feed_digest', models.CharField(blank=True, max_length=64, null=True, unique=True)),
                ('feed_created_at', models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.CreateModel(
            name='Decision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('order', models.PositiveIntegerField(default=1)),
                ('text', models.TextField()),
                ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('stix_id', models.CharField(blank=True, editable=False, max_length=128, null=True, unique=True)),
            ],
            options={
                'ordering': ['meeting', 'order', 'id'],
            },
        ),
        migrations.CreateModel(
            name='MinutesPart',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('order', models.PositiveIntegerField(default=1)),
                ('text', models.TextField()),
                ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('stix_id', models.CharField(blank=True, editable=False, max_length=128, null=True, unique=True)),
            ],
            options={
                'ordering': ['meeting', 'order', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Notification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('invitation', 'Invitation'), ('meeting_changed', 'Meeting changed'), ('meeting_cancelled', 'Meeting cancelled'), ('agenda_published', 'Agenda published'), ('minutes_published', 'Minutes published'), ('action_assigned', 'Action assigned'), ('action_due_soon', 'Action due in 3 days'), ('action_overdue', 'Action overdue')], max_length=32)),
                ('key', models.CharField(max_length=200)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('read_at', models.DateTimeField(blank=True, null=True)),
                ('emailed_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.AddField(
            model_name='actionitem',
            name='agenda_item',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='actions', to='consultations.agendaitem'),
        ),
        migrations.AddField(
            model_name='actionitem',
            name='completed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='actionitem',
            name='notes',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='actionitem',
            name='stix_id',
            field=models.CharField(blank=True, editable=False, max_length=128, null=True, unique=True),
        ),
        # A callable default would give every existing row the same value: add nullable, fill, then constrain.
        migrations.AddField(
            model_name='actionitem',
            name='uuid',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill_uuids('actionitem'), migrations.RunPython.noop),
        migrations.AlterField(
            model_name='actionitem',
            name='uuid',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AddField(
            model_name='agendaitem',
            name='stix_id',
            field=models.CharField(blank=True, editable=False, max_length=128, null=True, unique=True),
        ),
        # A callable default would give every existing row the same value: add nullable, fill, then constrain.
        migrations.AddField(
            model_name='agendaitem',
            name='uuid',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill_uuids('agendaitem'), migrations.RunPython.noop),
        migrations.AlterField(
            model_name='agendaitem',
            name='uuid',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AddField(
            model_name='meeting',
            name='agenda_published_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='meeting',
            name='cancel_reason',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='meeting',
            name='minutes_published_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='meeting',
            name='stix_id',
            field=models.CharField(blank=True, editable=False, max_length=128, null=True, unique=True),
        ),
        # A callable default would give every existing row the same value: add nullable, fill, then constrain.
        migrations.AddField(
            model_name='meeting',
            name='uuid',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill_uuids('meeting'), migrations.RunPython.noop),
        migrations.AlterField(
            model_name='meeting',
            name='uuid',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AddField(
            model_name='series',
            name='stix_id',
            field=models.CharField(blank=True, editable=False, max_length=128, null=True, unique=True),
        ),
        migrations.AddIndex(
            model_name='actionitem',
            index=models.Index(fields=['owner_organisation', 'status', 'due'], name='action_org_due'),
        ),
        migrations.AddIndex(
            model_name='actionitem',
            index=models.Index(fields=['series', 'status', 'due'], name='action_series_due'),
        ),
        migrations.AddField(
            model_name='calendarsettings',
            name='user',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='calendar_settings', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='decision',
            name='agenda_item',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='decisions', to='consultations.agendaitem'),
        ),
        migrations.AddField(
            model_name='decision',
            name='author',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='decision',
            name='label',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.labelrecord'),
        ),
        migrations.AddField(
            model_name='decision',
            name='meeting',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='decisions', to='consultations.meeting'),
        ),
        migrations.AddField(
            model_name='decision',
            name='originator',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.organisation'),
        ),
        migrations.AddField(
            model_name='minutespart',
            name='agenda_item',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='minutes_parts', to='consultations.agendaitem'),
        ),
        migrations.AddField(
            model_name='minutespart',
            name='author',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='minutespart',
            name='label',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.labelrecord'),
        ),
        migrations.AddField(
            model_name='minutespart',
            name='meeting',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='minutes_parts', to='consultations.meeting'),
        ),
        migrations.AddField(
            model_name='minutespart',
            name='originator',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.organisation'),
        ),
        migrations.AddField(
            model_name='notification',
            name='action',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='consultations.actionitem'),
        ),
        migrations.AddField(
            model_name='notification',
            name='meeting',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='consultations.meeting'),
        ),
        migrations.AddField(
            model_name='notification',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(fields=['user', 'read_at', 'created_at'], name='notification_inbox'),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(fields=['emailed_at', 'user'], name='notification_outbox'),
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.UniqueConstraint(fields=('user', 'key'), name='notification_once'),
        ),
    ]
