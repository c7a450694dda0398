"""What the users API reads and writes.

The output serializers declare their fields (for the OpenAPI schema) but build each answer in
one step: DRF's field-by-field walk cost more than everything else in a page of 50.
"""

from typing import Any

from rest_framework import serializers

from leaderboard.api import IdField, QueryInteger, public_id
from leaderboard.http.limits import MAX_USERS_PER_GROUP

from .models import MAX_AGE, MAX_POINTS
from .validators import refuse_unprintable, validate_name, validate_printable


class JSONInteger(serializers.IntegerField):
    """A JSON number with no fraction: "5" (a string) or true is refused, as the schema says,
    where DRF's IntegerField would take them."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class JSONString(serializers.CharField):
    """A JSON string: 42 is refused, where DRF's CharField would make it "42". Control and
    format characters are refused before the surrounding whitespace is trimmed: Python counts
    some of them (U+001C to U+001F) as whitespace, and trimming would accept what the schema
    refuses."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        refuse_unprintable(data)
        return super().to_internal_value(data)


def _whole_number(
    name: str, low: int, high: int, *, body: bool = False, **kwargs: Any
) -> serializers.IntegerField:
    """A whole number from ``low`` to ``high``: a JSON number in a body, digits in a query."""
    message: str | Any = f"{name} must be a whole number from {low:,} to {high:,}."
    field = JSONInteger if body else QueryInteger
    return field(
        min_value=low,
        max_value=high,
        error_messages={
            key: message
            for key in ("invalid", "null", "min_value", "max_value", "max_string_length")
        }
        | {"required": f"{name} is required."},
        **kwargs,
    )


def _text(name: str, max_length: int, **kwargs: Any) -> serializers.CharField:
    validator = validate_printable if kwargs.get("allow_blank") else validate_name
    return JSONString(
        max_length=max_length,
        validators=[validator],
        error_messages={
            "required": f"{name} is required.",
            "null": f"{name} must be text.",
            "invalid": f"{name} must be text.",
            "blank": f"{name} must not be blank.",
            "max_length": f"{name} can be at most {max_length} characters long.",
            "surrogate_characters_not_allowed": f"{name} contains a character that is not allowed.",
        },
        **kwargs,
    )


def user_json(user: Any) -> dict[str, Any]:
    return {
        "id": public_id(user.id),
        "name": user.name,
        "age": user.age,
        "address": user.address,
        "points": user.points,
        "rank": user.rank,
    }


def member_json(user: Any) -> dict[str, Any]:
    return {"id": public_id(user.id), "name": user.name, "age": user.age, "address": user.address}


class UserSerializer(serializers.Serializer[Any]):
    """A user as every endpoint answers it."""

    id = IdField()
    name = serializers.CharField()
    age = serializers.IntegerField()
    address = serializers.CharField()
    points = serializers.IntegerField()
    rank = serializers.IntegerField(help_text="1 + the number of users with more points.")

    def to_representation(self, user: Any) -> dict[str, Any]:
        return user_json(user)


class UserInputSerializer(serializers.Serializer[Any]):
    """What a client may set. `points` is not here: a client never sets points directly."""

    name = _text("Name", 100, help_text="1-100 characters, not blank.")
    age = _whole_number("Age", 0, MAX_AGE, body=True)
    address = _text("Address", 255, allow_blank=True, required=False, help_text="Optional.")


class PointsChangeSerializer(serializers.Serializer[Any]):
    by = _whole_number("By", 1, 1000, body=True, default=1)


class BoardQuerySerializer(serializers.Serializer[Any]):
    points = _whole_number(
        "points",
        0,
        MAX_POINTS,
        required=False,
        help_text="Only users with exactly this many points.",
    )
    search = serializers.CharField(
        required=False,
        # Searched as typed: a trimmed "a " would be one character, under the schema's minimum.
        trim_whitespace=False,
        min_length=2,
        max_length=100,
        validators=[validate_printable, refuse_unprintable],
        help_text="Only users whose name contains this text, in any case (2 characters or more).",
        error_messages={
            "min_length": "Type at least 2 characters to search.",
            "max_length": "A search can be at most 100 characters long.",
            "blank": "Type at least 2 characters to search.",
        },
    )


class AroundQuerySerializer(serializers.Serializer[Any]):
    size = _whole_number(
        "size", 1, 50, default=5, help_text="How many users above and below (default 5)."
    )


class GroupsQuerySerializer(serializers.Serializer[Any]):
    users_per_group = _whole_number(
        "users_per_group",
        1,
        MAX_USERS_PER_GROUP,
        default=10,
        help_text="Users listed per group (default 10).",
    )


class GroupMemberSerializer(serializers.Serializer[Any]):
    id = IdField()
    name = serializers.CharField()
    age = serializers.IntegerField()
    address = serializers.CharField()

    def to_representation(self, user: Any) -> dict[str, Any]:
        return member_json(user)


def group_json(group: Any) -> dict[str, Any]:
    return {
        "points": group.points,
        "count": group.count,
        "average_age": group.average_age,
        "users": [member_json(user) for user in group.users],
    }


class ScoreGroupSerializer(serializers.Serializer[Any]):
    points = serializers.IntegerField()
    count = serializers.IntegerField(help_text="Users with these points.")
    average_age = serializers.FloatField(help_text="Their average age, to 2 decimals.")
    users = GroupMemberSerializer(many=True, help_text="The first of them, in board order.")

    def to_representation(self, group: Any) -> dict[str, Any]:
        return group_json(group)


class AroundSerializer(serializers.Serializer[Any]):
    user = UserSerializer()
    above = UserSerializer(many=True, help_text="Up to `size` users just above, in board order.")
    below = UserSerializer(many=True, help_text="Up to `size` users just below, in board order.")

    def to_representation(self, around: Any) -> dict[str, Any]:
        return {
            "user": user_json(around.user),
            "above": [user_json(user) for user in around.above],
            "below": [user_json(user) for user in around.below],
        }
