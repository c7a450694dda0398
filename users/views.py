"""The users API. Views translate HTTP to the services and selectors, and nothing more."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.fields import empty
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import idempotency
from accounts.idempotency import idempotent
from leaderboard.api import LimitOffsetPagination, is_id
from leaderboard.http import identity
from leaderboard.http.limits import MAX_ANSWER_BYTES, MAX_GROUPED_USERS

from . import search, selectors, services
from .models import User
from .serializers import (
    AroundQuerySerializer,
    AroundSerializer,
    BoardQuerySerializer,
    GroupsQuerySerializer,
    PointsChangeSerializer,
    ScoreGroupSerializer,
    UserInputSerializer,
    UserSerializer,
    group_json,
    user_json,
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "pattern": f"^{idempotency.KEY_PATTERN.pattern}$"},
    OpenApiParameter.HEADER,
    description=(
        "Any unique string (a UUID): a retry with the same key and body gets the first answer "
        "again, with `Idempotent-Replayed: true`, and changes nothing. Kept 24 hours."
    ),
)


class PointsConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "points_out_of_range"


class UserNotFound(exceptions.NotFound):
    default_detail = "No such user."


@extend_schema_view(
    list=extend_schema(
        summary="The leaderboard, best first (or a search of it)",
        description=(
            "Anonymous answers may be reused for a second; each has an ETag, and a request "
            "with a matching If-None-Match gets a 304."
        ),
        parameters=[BoardQuerySerializer],
        responses={200: UserSerializer(many=True), 304: None},
    ),
    create=extend_schema(
        summary="Add a user (with 0 points)",
        request=UserInputSerializer,
        responses={201: UserSerializer},
        parameters=[IDEMPOTENCY_KEY],
    ),
    retrieve=extend_schema(summary="One user, with rank"),
    update=extend_schema(summary="Replace name, age and address", request=UserInputSerializer),
    partial_update=extend_schema(
        summary="Change name, age and/or address", request=UserInputSerializer
    ),
    destroy=extend_schema(summary="Delete a user", responses={204: None}),
)
class UserViewSet(viewsets.GenericViewSet[User]):
    serializer_class = UserSerializer
    queryset = User.objects.none()  # every read goes through the selectors
    paginator: LimitOffsetPagination

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if "pk" in kwargs and not is_id(kwargs["pk"]):
            raise UserNotFound

    def list(self, request: Request) -> Response:
        query = _valid(BoardQuerySerializer, _query(request))
        offset, limit = self.paginator.window(request)
        if "search" in query:
            total, users = search.search_page(
                text=query["search"], points=query.get("points"), offset=offset, limit=limit
            )
        else:
            total, users = selectors.board_page(
                offset=offset, limit=limit, points=query.get("points")
            )
        return _cacheable(request, self.paginator.page(request, total, list(map(user_json, users))))

    def create(self, request: Request) -> Response:
        def create() -> Response:
            user = services.user_create(**_valid(UserInputSerializer, request.data))
            return Response(user_json(user), status=status.HTTP_201_CREATED)

        return idempotent(request, create, still_there=_user_exists)

    def retrieve(self, request: Request, pk: str) -> Response:
        with _user_not_found():
            user = selectors.user_get(user_id=pk)
        return _cacheable(request, Response(user_json(user)))

    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        fields = _valid(UserInputSerializer, request.data, partial=partial)
        with _user_not_found():
            user = services.user_update(user_id=pk, **fields)
        return Response(user_json(user))

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: str) -> Response:
        with _user_not_found():
            services.user_delete(user_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Add points (default 1)",
        request=PointsChangeSerializer,
        responses={200: UserSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    def increment(self, request: Request, pk: str) -> Response:
        return self._change_points(request, pk, sign=+1)

    @extend_schema(
        summary="Take points away (default 1); 409 if that would go below 0",
        request=PointsChangeSerializer,
        responses={200: UserSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    def decrement(self, request: Request, pk: str) -> Response:
        return self._change_points(request, pk, sign=-1)

    def _change_points(self, request: Request, pk: str, *, sign: int) -> Response:
        def change() -> Response:
            by = _valid(PointsChangeSerializer, request.data)["by"]
            with _user_not_found():
                try:
                    user = services.points_change(user_id=pk, delta=sign * by)
                except services.PointsOutOfRange as exc:
                    raise PointsConflict(str(exc)) from exc
            return Response(user_json(user))

        return idempotent(request, change)

    @extend_schema(
        summary="A user and the users just above and below them on the board",
        parameters=[AroundQuerySerializer],
        responses={200: AroundSerializer},
    )
    @action(detail=True, methods=["get"])
    def around(self, request: Request, pk: str) -> Response:
        size = _valid(AroundQuerySerializer, _query(request))["size"]
        with _user_not_found():
            around = selectors.user_around(user_id=pk, size=size)
        return _cacheable(request, Response(AroundSerializer(around).data))

    @extend_schema(
        summary="Users grouped by points, highest first, with count and average age",
        description=(
            "Counts and average ages are exact at the moment of the request; anonymous "
            "answers, like the board's, may be reused for a second. At most "
            f"{MAX_GROUPED_USERS:,} users in all: `limit` × `users_per_group` above that is a "
            f"400. An answer over {MAX_ANSWER_BYTES // 2**20} MB (only with many long names "
            "and addresses: about 650 users of the longest) is a 400 too, that says to ask "
            "for fewer."
        ),
        parameters=[GroupsQuerySerializer],
        responses={200: ScoreGroupSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], url_path="grouped-by-score")
    def grouped_by_score(self, request: Request) -> Response:
        per_group = _valid(GroupsQuerySerializer, _query(request))["users_per_group"]
        offset, limit = self.paginator.window(request)
        if limit * per_group > MAX_GROUPED_USERS:
            raise exceptions.ValidationError(
                {
                    "users_per_group": [
                        f"limit × users_per_group can be at most {MAX_GROUPED_USERS:,} "
                        f"(asked: {limit:,} × {per_group:,}); ask for fewer groups or fewer "
                        "users per group."
                    ]
                }
            )
        total, groups = selectors.groups_page(offset=offset, limit=limit, users_per_group=per_group)
        if _answer_bytes(groups) > MAX_ANSWER_BYTES:
            raise exceptions.ValidationError(
                {
                    "users_per_group": [
                        f"These groups' users make an answer larger than "
                        f"{MAX_ANSWER_BYTES // 2**20} MB; ask for fewer groups or fewer users "
                        "per group."
                    ]
                }
            )
        return _cacheable(
            request, self.paginator.page(request, total, list(map(group_json, groups)))
        )


def _valid(
    serializer_class: type[serializers.Serializer[Any]], data: Any, *, partial: bool = False
) -> Mapping[str, Any]:
    """The validated data, or a 400 that names each field's problem."""
    if not isinstance(data, Mapping):
        raise exceptions.ValidationError(
            {"non_field_errors": ['The body must be a JSON object, like {"name": "Ada"}.']}
        )
    fields = serializer_class._declared_fields
    if not partial and fields.keys().isdisjoint(data):
        # Nothing to check (the usual read of the board): the defaults, without building a
        # serializer, which cost a tenth of a page.
        if any(field.required for field in fields.values()):
            raise exceptions.ValidationError(
                {
                    name: [field.error_messages["required"]]
                    for name, field in fields.items()
                    if field.required
                }
            )
        return {name: field.default for name, field in fields.items() if field.default is not empty}
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _query(request: Request) -> dict[str, str]:
    """The query string as a plain dict: given a QueryDict, DRF would take `?search=` as no
    search at all (HTML form rules), where the schema says 2 characters or more."""
    return request.query_params.dict()


def _cacheable(request: Request, response: Response) -> Response:
    """Anonymous reads of the board may be kept briefly by this process, a browser or a CDN;
    each carries an ETag, so a repeat costs a 304 (leaderboard.http.cache)."""
    if identity.is_anonymous(request):
        response["Cache-Control"] = f"public, max-age={settings.LEADERBOARD_PUBLIC_CACHE_SECONDS}"
    return response


def _answer_bytes(groups: Any) -> int:
    """An upper bound on the JSON of ``groups``, without rendering it: each member's name
    and address in UTF-8 (a quote or a backslash escaped takes one byte more; control
    characters are refused on the way in) and 100 bytes for its keys, id and age; 200 for
    each group's own fields."""
    return sum(
        200
        + sum(100 + _json_length(user.name) + _json_length(user.address) for user in group.users)
        for group in groups
    )


def _json_length(text: str) -> int:
    return len(text.encode()) + text.count('"') + text.count("\\")


def _user_exists(created: Any) -> bool:
    """Whether the user a create's first answer names is still there (for its replays)."""
    try:
        selectors.user_get(user_id=created["id"])
    except User.DoesNotExist:
        return False
    return True


@contextmanager
def _user_not_found() -> Iterator[None]:
    """Turn ``User.DoesNotExist`` from a service or selector into a 404."""
    try:
        yield
    except User.DoesNotExist as exc:
        raise UserNotFound from exc
