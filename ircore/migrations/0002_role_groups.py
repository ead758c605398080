from django.db import migrations

GROUPS = ("Incident managers", "Responders", "Support", "Leadership")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    """The role groups; their permissions are granted after migrate by
    ``ircore.roles.sync_role_groups`` from each app's ``role_grants``."""

    dependencies = [("ircore", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, remove_groups)]
