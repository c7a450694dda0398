from typing import Any

from rest_framework import serializers

from .models import MAX_AGE, User


class UserSerializer(serializers.ModelSerializer[User]):
    """A user as every endpoint answers it."""

    rank = serializers.IntegerField(read_only=True, help_text="1 + users with more points.")

    class Meta:
        model = User
        fields = ["id", "name", "age", "address", "points", "rank"]
        read_only_fields = ["id", "points", "rank"]


class UserInputSerializer(serializers.Serializer[User]):
    """What a client may set. `points` is not here: a client never sets points directly."""

    name = serializers.CharField(max_length=100)
    age = serializers.IntegerField(min_value=0, max_value=MAX_AGE)
    address = serializers.CharField(max_length=255, allow_blank=True, required=False)


class PointsChangeSerializer(serializers.Serializer[None]):
    by = serializers.IntegerField(min_value=1, max_value=1000, default=1)


class GroupMemberSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "name", "age", "address"]


class ScoreGroupSerializer(serializers.Serializer[Any]):
    points = serializers.IntegerField()
    count = serializers.IntegerField(help_text="Users with these points.")
    average_age = serializers.FloatField(help_text="Their average age, to 2 decimals.")
    users = GroupMemberSerializer(many=True, help_text="The first of them, in board order.")


class GroupsQuerySerializer(serializers.Serializer[None]):
    users_per_group = serializers.IntegerField(min_value=1, max_value=1000, default=100)
