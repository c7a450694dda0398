"""A finer sample of the searched names, so that PostgreSQL plans a search by how many names
it really matches.

PostgreSQL estimates how many names contain a text from the histogram it keeps of
``UPPER(name)`` (the trigram index's expression, users 0009). With the default 100 entries,
each entry a text is found in counts as 1% of the names: at 1M users, "jim", in 2,763 names,
was taken for 29,000, and the search joined them to their rows by reading the whole users
table (259 ms) instead of looking each up by id (14 ms). With 1,000 entries it is taken for 5,600,
and the lookups are chosen. Planning a search reads the 1,000 entries; ANALYZE samples
300,000 names at most, whatever the table's size.
"""

from django.db import migrations

from leaderboard.db.migrations import on_postgresql

SAMPLED = 1_000

FINER = f"""
ALTER INDEX users_name_search_trgm_idx ALTER COLUMN 1 SET STATISTICS {SAMPLED};
ANALYZE users_name_search;
"""
DEFAULT = "ALTER INDEX users_name_search_trgm_idx ALTER COLUMN 1 SET STATISTICS -1"


class Migration(migrations.Migration):
    dependencies = [("users", "0009_names_searched_apart")]

    operations = [on_postgresql(FINER, DEFAULT)]
