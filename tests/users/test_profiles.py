"""The names, ages and addresses each process keeps, by the version the index holds."""

import gc

from users.profiles import ProfileCache

ADA = ("Ada", 36, "London")
ADA_MOVED = ("Ada", 36, "Paris")


def test_a_profile_is_served_only_at_the_version_asked_for():
    cache = ProfileCache()
    cache.put_many([(1, 3, *ADA)])

    assert cache.get_many([(1, 3)]) == {1: ADA}
    assert cache.get_many([(1, 4)]) == {}  # changed since it was read: read it again


def test_a_slower_read_of_an_older_version_does_not_replace_a_newer_one():
    cache = ProfileCache()
    cache.put_many([(1, 4, *ADA_MOVED)])
    cache.put_many([(1, 3, *ADA)])

    assert cache.get_many([(1, 4)]) == {1: ADA_MOVED}


def test_a_full_cache_forgets_the_profile_read_least_recently():
    cache = ProfileCache(size=2)
    cache.put_many([(1, 1, *ADA), (2, 1, *ADA)])
    cache.get_many([(1, 1)])
    cache.put_many([(3, 1, *ADA)])

    assert cache.get_many([(1, 1), (2, 1), (3, 1)]).keys() == {1, 3}


def test_a_full_cache_gives_the_garbage_collector_nothing_to_walk():
    cache = ProfileCache(size=1_000)
    cache.put_many((pk, 1, f"User {pk}", 30, f"{pk} Main Street") for pk in range(1_000))
    gc.collect()

    # Python stops tracking tuples of strings and numbers; a full collection, which holds
    # every thread of a worker, would otherwise walk each profile kept.
    assert not any(map(gc.is_tracked, cache._entries.values()))
