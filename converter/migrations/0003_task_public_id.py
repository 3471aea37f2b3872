from django.db import migrations


class Migration(migrations.Migration):
    """Task.task_id is Task.public_id: the public id no longer shares its
    name with Django's task_id attribute of every foreign key to a task."""

    dependencies = [("converter", "0002_api_keys_usage_delivery")]

    operations = [migrations.RenameField("task", "task_id", "public_id")]
