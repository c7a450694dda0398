import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from users.factories import UserFactory

from .models import Winner
from .services import slot_start


class WinnerFactory(DjangoModelFactory[Winner]):
    """A stored winner: a user with points, won now, in the slot of that moment."""

    class Meta:
        model = Winner

    user = factory.SubFactory(UserFactory, scored=True)
    points = factory.SelfAttribute("user.points")
    won_at = factory.LazyFunction(timezone.now)
    slot = factory.LazyAttribute(lambda o: slot_start(o.won_at))
