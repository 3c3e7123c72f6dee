"""The foreign key to the reward app's row goes once its name is copied (a migration of its own, so
the data copy and the column drop run in separate transactions on PostgreSQL)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('generation', '0005_generationjob_ranked_by'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='generationjob',
            name='reward_model',
        ),
    ]
