"""The e-mail mode and the digest time moved to the notifications app's ``Preference`` (for every module);
notifications 0004 copied them there first."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('consultations', '0004_list_by_recency'),
        ('notifications', '0004_copy_email_modes'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='calendarsettings',
            name='email_mode',
        ),
        migrations.RemoveField(
            model_name='calendarsettings',
            name='last_digest_at',
        ),
    ]
