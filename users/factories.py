from typing import Any

import factory
import factory.random
from factory.django import DjangoModelFactory

from .models import User
from .services import users_bulk_create


class UserFactory(DjangoModelFactory[User]):
    """A leaderboard user with a Faker name and address, aged 18 to 80, and 0 points.

    ``UserFactory(scored=True)`` gives random points (0..100; ``max_points`` changes the top).
    Created users go through ``users_bulk_create``, so the ranking index knows them.
    """

    class Meta:
        model = User

    class Params:
        max_points = 100
        one_line_address = factory.Faker("address")
        scored = factory.Trait(
            points=factory.LazyAttribute(lambda o: factory.random.randgen.randint(0, o.max_points))
        )

    name = factory.Faker("name")
    age = factory.Faker("random_int", min=18, max=80)
    address = factory.LazyAttribute(lambda o: o.one_line_address.replace("\n", ", "))
    points = 0

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return users_bulk_create([model_class(**kwargs)])[0]
