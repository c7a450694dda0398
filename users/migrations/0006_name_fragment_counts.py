"""How many live users' names contain each 2- and 3-character fragment, kept by PostgreSQL.

A short search matches a large share of the board ("son" is in 9% of seeded names), so
counting its matches through the trigram index reads most of the table: 200 ms at 1M users,
growing with the board. With these counts, ``count`` is one primary-key lookup and the page is
a short walk down the board's index (``users.name_fragments``).

Triggers keep the counts in the same transaction as every write that adds, renames, deletes or
restores a user, whichever code (or SQL) makes it; a points change does not fire them. The
counts use the database's own ``upper()`` and ``substr()``, so they agree with the ``icontains``
match character for character. Only PostgreSQL has them: SQLite scans, and MongoDB has its
own migrations.
"""

from django.db import migrations

from leaderboard.db.migrations import on_postgresql

CREATE = """
-- No CHECK (users >= 0): PostgreSQL checks the row an upsert proposes, a lone -1, before it
-- finds the row the -1 is added to.
CREATE TABLE users_name_fragment (
    fragment text PRIMARY KEY,
    users integer NOT NULL
);

-- Adds changes to the counts. Writers lock the counts they change in one order (ORDER BY
-- fragment), so two of them wait for each other instead of deadlocking.
CREATE FUNCTION users_add_name_fragments(fragments text[], changes integer[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO users_name_fragment AS counted (fragment, users)
    SELECT fragment, change FROM unnest(fragments, changes) AS changed(fragment, change)
    WHERE change <> 0
    ORDER BY fragment
    ON CONFLICT (fragment) DO UPDATE SET users = counted.users + excluded.users
$$;

-- A name's fragments, each distinct one once ("Hannah" has AN twice). A plain SQL function,
-- so that PostgreSQL inlines it into the queries below.
CREATE FUNCTION users_name_fragments(name text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE AS $$
    SELECT DISTINCT substr(upper(name), start, length)
    FROM generate_series(2, 3) AS length,
         generate_series(1, char_length(upper(name)) - length + 1) AS start
$$;

-- The changes for names that went and names that came. No JIT: compiling the plan costs more
-- than running it.
CREATE FUNCTION users_count_name_fragments(removed text[], added text[]) RETURNS void
LANGUAGE sql SET jit = off AS $$
    SELECT users_add_name_fragments(array_agg(fragment), array_agg(change))
    FROM (
        SELECT fragment, sum(change)::integer AS change
        FROM (
            SELECT name, -1 AS change FROM unnest(removed) AS name
            UNION ALL
            SELECT name, 1 FROM unnest(added) AS name
        ) AS changes, users_name_fragments(name) AS fragment
        GROUP BY fragment
    ) AS changed
$$;

CREATE FUNCTION users_name_fragments_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A bulk load that adds its names' counts itself says so (name_fragments.counted_here).
    IF current_setting('leaderboard.name_fragments', true) = 'counted' THEN
        RETURN NULL;
    END IF;
    PERFORM users_count_name_fragments('{}', ARRAY(SELECT name FROM added WHERE NOT deleted));
    RETURN NULL;
END $$;

CREATE FUNCTION users_name_fragments_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM users_count_name_fragments(ARRAY(SELECT name FROM removed WHERE NOT deleted), '{}');
    RETURN NULL;
END $$;

CREATE FUNCTION users_name_fragments_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM users_count_name_fragments(
        CASE WHEN OLD.deleted THEN '{}' ELSE ARRAY[OLD.name] END,
        CASE WHEN NEW.deleted THEN '{}' ELSE ARRAY[NEW.name] END
    );
    RETURN NULL;
END $$;

CREATE FUNCTION users_name_fragments_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE users_name_fragment;
    RETURN NULL;
END $$;

-- Statement triggers for inserts and deletes: a seeding batch changes each count once.
CREATE TRIGGER users_name_fragments_insert AFTER INSERT ON users_user
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION users_name_fragments_inserted();
CREATE TRIGGER users_name_fragments_delete AFTER DELETE ON users_user
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION users_name_fragments_deleted();
-- A row trigger with a condition for updates, so that the hot path (points) skips it.
CREATE TRIGGER users_name_fragments_update AFTER UPDATE OF name, deleted ON users_user
    FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.deleted IS DISTINCT FROM NEW.deleted)
    EXECUTE FUNCTION users_name_fragments_updated();
CREATE TRIGGER users_name_fragments_truncate AFTER TRUNCATE ON users_user
    FOR EACH STATEMENT EXECUTE FUNCTION users_name_fragments_truncated();

-- The users already there, in one pass. The triggers' lock on users_user holds writers off
-- until the migration commits, so none is missed or counted twice.
SET LOCAL jit = off;
INSERT INTO users_name_fragment (fragment, users)
SELECT fragment, count(*) FROM users_user, users_name_fragments(name) AS fragment
WHERE NOT deleted
GROUP BY fragment;
"""

DROP = """
DROP TRIGGER IF EXISTS users_name_fragments_insert ON users_user;
DROP TRIGGER IF EXISTS users_name_fragments_delete ON users_user;
DROP TRIGGER IF EXISTS users_name_fragments_update ON users_user;
DROP TRIGGER IF EXISTS users_name_fragments_truncate ON users_user;
DROP FUNCTION IF EXISTS users_name_fragments_inserted();
DROP FUNCTION IF EXISTS users_name_fragments_deleted();
DROP FUNCTION IF EXISTS users_name_fragments_updated();
DROP FUNCTION IF EXISTS users_name_fragments_truncated();
DROP FUNCTION IF EXISTS users_count_name_fragments(text[], text[]);
DROP FUNCTION IF EXISTS users_add_name_fragments(text[], integer[]);
DROP FUNCTION IF EXISTS users_name_fragments(text);
DROP TABLE IF EXISTS users_name_fragment;
"""


class Migration(migrations.Migration):
    dependencies = [("users", "0005_name_needs_a_visible_character")]

    operations = [on_postgresql(CREATE, DROP)]
