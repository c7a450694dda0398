"""The database itself refuses points out of range and ages past 150, whatever writes them:
check constraints on SQL databases, the users collection's validator on MongoDB."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import DatabaseError, connection

from users import mongo_schema
from users.factories import UserFactory
from users.models import MAX_AGE, MAX_POINTS, User

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "change",
    [{"points": -1}, {"points": MAX_POINTS + 1}, {"age": MAX_AGE + 1}, {"age": -1}],
    ids=["points below 0", "points past the maximum", "age past 150", "age below 0"],
)
def test_a_direct_write_out_of_range_is_refused_by_the_database(change):
    user = UserFactory(points=5, age=30)

    with pytest.raises(DatabaseError):
        User.objects.filter(pk=user.pk).update(**change)  # no service, no validation

    assert User.objects.filter(pk=user.pk).values_list("points", "age").get() == (5, 30)


@pytest.mark.skipif(not settings.IS_MONGODB, reason="the validator is MongoDB's")
def test_check_says_when_the_validator_is_missing():
    call_command("check", databases=["default"])  # in place: no error (and W027 silenced)
    table = User._meta.db_table
    connection.database.command("collMod", table, validator={})
    try:
        with pytest.raises(SystemCheckError, match=r"users\.E001"):
            call_command("check", databases=["default"])
        User.objects.filter(pk=UserFactory().pk).update(points=-1)  # nothing refuses it now
    finally:
        connection.database.command("collMod", table, validator=mongo_schema.validator())
