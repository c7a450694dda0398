from rest_framework import serializers

from users.models import User

from .models import Winner


class WinnerUserSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "name"]


class WinnerSerializer(serializers.ModelSerializer[Winner]):
    user = WinnerUserSerializer()

    class Meta:
        model = Winner
        fields = ["id", "user", "points", "won_at"]
