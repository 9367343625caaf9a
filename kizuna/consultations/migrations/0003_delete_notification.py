"""Consultation notifications moved to the notifications app (its 0002 copied the rows)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('consultations', '0002_cycle'),
        ('notifications', '0002_copy_old_notifications'),
    ]

    operations = [
        migrations.DeleteModel(
            name='Notification',
        ),
    ]
