"""A generation job names the model that ranked its candidates instead of pointing at the reward app's
row, so the generation app depends on no app above it (the reward app registers the ranking)."""

from django.db import migrations, models


def names_from_reward_models(apps, schema_editor):
    GenerationJob = apps.get_model("generation", "GenerationJob")
    for job in GenerationJob.objects.exclude(reward_model=None).select_related("reward_model"):
        job.ranked_by = job.reward_model.name
        job.save(update_fields=["ranked_by"])


def reward_models_from_names(apps, schema_editor):
    GenerationJob = apps.get_model("generation", "GenerationJob")
    RewardModelVersion = apps.get_model("reward", "RewardModelVersion")
    by_name = dict(RewardModelVersion.objects.values_list("name", "pk"))
    for job in GenerationJob.objects.exclude(ranked_by=None):
        job.reward_model_id = by_name.get(job.ranked_by)
        job.save(update_fields=["reward_model"])


class Migration(migrations.Migration):

    dependencies = [
        ('generation', '0004_generationjob_reward_model_headshot_kept_and_more'),
    ]

    operations = [
        migrations.AddField(
            model_name='generationjob',
            name='ranked_by',
            field=models.CharField(blank=True, help_text='Best-of-n: the name of the model that ranked the candidates (null: not ranked).', max_length=64, null=True),
        ),
        migrations.RunPython(names_from_reward_models, reward_models_from_names),
    ]
