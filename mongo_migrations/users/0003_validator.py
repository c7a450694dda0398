"""The users collection's $jsonSchema validator: on MongoDB, what the SQL databases' check
constraints users_user_points_in_range and users_user_age_in_range hold (users/mongo_schema.py)."""

from django.db import migrations

from users import mongo_schema


class Migration(migrations.Migration):
    dependencies = [("users", "0002_schedule_index_upkeep")]

    operations = [migrations.RunPython(mongo_schema.apply, mongo_schema.remove)]
