from django.db import migrations, models


def mark_defaults(apps, schema_editor):
    """A project named default-<owner id> by its own owner was that owner's
    default project. One of that name owned by someone else was squatted
    (anyone could choose the name): it is renamed out of the reserved
    prefix, so its owner keeps it and the person it imitated gets their own."""
    Project = apps.get_model("converter", "Project")
    for project in Project.objects.filter(name__startswith="default-"):
        if project.name == f"default-{project.owner_id}":
            project.is_default = True
            project.save(update_fields=["is_default"])
        else:
            project.name = f"renamed-{project.pk}-{project.name}"[:128]
            project.save(update_fields=["name"])


class Migration(migrations.Migration):
    dependencies = [("converter", "0003_task_public_id")]

    operations = [
        migrations.AddField(
            model_name="project",
            name="is_default",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(mark_defaults, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="project",
            constraint=models.UniqueConstraint(
                condition=models.Q(is_default=True),
                fields=("owner",),
                name="project_one_default_per_owner",
            ),
        ),
    ]
