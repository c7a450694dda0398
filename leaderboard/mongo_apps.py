"""The third-party apps' configurations for MongoDB mode (a `mongodb://` DATABASE_URL).

MongoDB has no auto-increment, so django-mongodb-backend refuses `AutoField` and
`BigAutoField` (mongodb.E001). These apps hard-code one or the other, and their own
migrations create them; here each gets the backend's `ObjectIdAutoField` instead, and
`MIGRATION_MODULES` points them at migrations made for it (mongo_migrations/). This follows
the backend's documentation ("Configuring Django's contrib apps").
"""

from axes.apps import AppConfig as AxesConfig
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth.apps import AuthConfig
from django.contrib.contenttypes.apps import ContentTypesConfig
from django_celery_beat.apps import BeatConfig

OBJECT_ID = "django_mongodb_backend.fields.ObjectIdAutoField"


class MongoAdminConfig(AdminConfig):
    default_auto_field = OBJECT_ID


class MongoAuthConfig(AuthConfig):
    default_auto_field = OBJECT_ID


class MongoContentTypesConfig(ContentTypesConfig):
    default_auto_field = OBJECT_ID


class MongoBeatConfig(BeatConfig):
    default_auto_field = OBJECT_ID


class MongoAxesConfig(AxesConfig):
    default_auto_field = OBJECT_ID
