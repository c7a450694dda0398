"""Live users' names in a table of their own, where the trigram index for ``?search=`` lives.

PostgreSQL cannot change a row in place (a HOT update) when an indexed column changes, and
``points`` is in the board's index: every points change, and the sweep's clearing of its
mark, writes a new row version into every index of ``users_user``. For the trigram index of
migration 0004 that is a dozen entries per name, which GIN gathers in a pending list and
merges in one go when the list is full, stalling the write that fills it: increments' p99
went from 25 ms to 50 ms with the index in the table. Names change rarely, so here the index
is written only when a name does.

Triggers keep ``users_name_search`` equal to the live users' names in the same transaction as
every insert (COPY included), rename, delete, restore or ``TRUNCATE``, whichever code or SQL
makes it; a points change does not fire them. Only PostgreSQL has it: SQLite scans, and
MongoDB has its own migrations.
"""

from django.db import migrations

from leaderboard.db.migrations import on_postgresql

CREATE = """
CREATE TABLE users_name_search (
    user_id bigint PRIMARY KEY,
    name varchar(100) NOT NULL
);
CREATE INDEX users_name_search_trgm_idx ON users_name_search
    USING gin (UPPER(name) gin_trgm_ops);

CREATE FUNCTION users_name_search_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO users_name_search (user_id, name)
    SELECT id, name FROM added WHERE NOT deleted;
    RETURN NULL;
END $$;

CREATE FUNCTION users_name_search_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM users_name_search WHERE user_id IN (SELECT id FROM removed);
    RETURN NULL;
END $$;

CREATE FUNCTION users_name_search_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.deleted THEN
        DELETE FROM users_name_search WHERE user_id = NEW.id;
    ELSE
        INSERT INTO users_name_search (user_id, name) VALUES (NEW.id, NEW.name)
        ON CONFLICT (user_id) DO UPDATE SET name = excluded.name;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION users_name_search_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE users_name_search;
    RETURN NULL;
END $$;

-- Statement triggers for inserts and deletes, so that a seeding batch is one INSERT here.
CREATE TRIGGER users_name_search_insert AFTER INSERT ON users_user
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION users_name_search_inserted();
CREATE TRIGGER users_name_search_delete AFTER DELETE ON users_user
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION users_name_search_deleted();
-- A row trigger with a condition for updates, so that the hot path (points) skips it.
CREATE TRIGGER users_name_search_update AFTER UPDATE OF name, deleted ON users_user
    FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.deleted IS DISTINCT FROM NEW.deleted)
    EXECUTE FUNCTION users_name_search_updated();
CREATE TRIGGER users_name_search_truncate AFTER TRUNCATE ON users_user
    FOR EACH STATEMENT EXECUTE FUNCTION users_name_search_truncated();

-- The users already there. The triggers' lock on users_user holds writers off until the
-- migration commits, so none is missed or copied twice.
INSERT INTO users_name_search (user_id, name) SELECT id, name FROM users_user WHERE NOT deleted;
ANALYZE users_name_search;
DROP INDEX IF EXISTS users_user_name_trgm_idx;
"""

DROP = """
CREATE INDEX IF NOT EXISTS users_user_name_trgm_idx ON users_user
    USING gin (UPPER(name) gin_trgm_ops) WHERE NOT deleted;
DROP TRIGGER IF EXISTS users_name_search_insert ON users_user;
DROP TRIGGER IF EXISTS users_name_search_delete ON users_user;
DROP TRIGGER IF EXISTS users_name_search_update ON users_user;
DROP TRIGGER IF EXISTS users_name_search_truncate ON users_user;
DROP FUNCTION IF EXISTS users_name_search_inserted();
DROP FUNCTION IF EXISTS users_name_search_deleted();
DROP FUNCTION IF EXISTS users_name_search_updated();
DROP FUNCTION IF EXISTS users_name_search_truncated();
DROP TABLE IF EXISTS users_name_search;
"""


class Migration(migrations.Migration):
    dependencies = [("users", "0008_sweep_every_second")]

    operations = [on_postgresql(CREATE, DROP)]
