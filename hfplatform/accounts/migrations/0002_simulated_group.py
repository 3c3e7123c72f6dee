"""The ``simulated`` group: accounts that ``manage.py simulate_reviewers`` drives (not a role; its
members hold the reviewer role too, and every review report can leave them out)."""

from django.db import migrations

SIMULATED_GROUP = "simulated"  # hfplatform.accounts.selectors.SIMULATED_GROUP (migrations stay frozen)


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=SIMULATED_GROUP)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=SIMULATED_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_role_groups")]
    operations = [migrations.RunPython(create_group, remove_group)]
