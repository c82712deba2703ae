"""The site's central schema in PostgreSQL (schema ``facegate``), as ordered named migrations.

Like core.gallery.schema: each migration runs once, in the transaction that records its name in
``facegate.meta``, under an advisory lock (two PCs initialising at once cannot interleave).
Names must stay unique and released entries are never edited.

Privileges are enforced by PostgreSQL, not by FaceGate:

- ``facegate_admin`` (LOGIN, password made at ``site init``) manages people, groups and doors:
  plain GRANTs on every table, and a row-level-security policy that lets it see every row.
- ``facegate_door`` (NOLOGIN) is the group role of every door's own login role. It gets
  SELECT on the gallery tables, filtered by row-level security to the people of the groups that
  may open *that* door (the door is found from ``session_user``), INSERT on ``events_inbox``
  (``events`` before migration events-inbox) only for rows naming itself (RLS ``WITH CHECK``),
  and EXECUTE on SECURITY DEFINER functions, among them
  ``door_enroll`` (its own new enrollments), ``door_update`` (renaming people it enrolled
  itself), ``door_withdraw`` (taking back its own proposals no admin approved yet) and
  ``door_hello`` (its heartbeat and settings). It has no INSERT, UPDATE or DELETE on
  people or samples, so whatever a door PC runs, it cannot change or delete anyone else.
  Why functions for enrollments rather than INSERT grants: an enrollment touches people,
  samples, group membership and the duplicate flags at once, must be idempotent (a retried push
  adds nothing) and must see a person deleted centrally (which RLS hides from the door); a
  function checks all of that in one place, where the door cannot skip a step.
- Why RLS for reads rather than views or functions: the door reads plain tables with ordinary
  queries (binary COPY-like transfers of vectors), and the filter cannot be bypassed by a query
  FaceGate did not write.

The change log (``changes``) holds one row per person ever changed: the newest change. Every
write to people, samples, schedules, negatives or group membership, whoever makes it, lands
there through statement-level triggers, under a transaction-scoped advisory lock, so sequence
numbers are committed in order and a door's cursor (the last seq it applied) never skips one.
A row whose person no longer exists (or the door may no longer see) is a deletion.

The SECURITY DEFINER functions search ``facegate, public`` (pgvector's type and operators live
where the extension was created, usually public): public must not be writable by untrusted
roles, which is PostgreSQL's default since version 15 (older servers: REVOKE CREATE ON SCHEMA
public FROM PUBLIC).
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from psycopg import sql

MIGRATION_LOCK = 0x46474D47  # "FGMG": one migrating session at a time
CHANGE_LOCK = 0x46474348  # "FGCH": change-log writers commit in seq order
CHANNEL = "facegate_changes"
ADMIN_ROLE = "facegate_admin"
DOOR_ROLE = "facegate_door"
DEFAULT_GROUP = "everyone"

#: Tables whose rows belong to one person; each change to them is logged for that person.
PERSON_TABLES = {
    "people": "id",
    "samples": "person_id",
    "schedules": "person_id",
    "negatives": "person_id",
    "group_members": "person_id",
    "passes": "person_id",
}
#: person tables made after the change log's migration: their own migration adds their triggers
_LATER = ("passes",)


def _tables(cur: psycopg.Cursor) -> None:
    cur.execute("""
        CREATE TABLE facegate.site_settings (
            key text PRIMARY KEY,
            value text NOT NULL
        );
        INSERT INTO facegate.site_settings VALUES ('keep_snapshots', 'false'), ('duplicate_distance', '0.4');

        CREATE TABLE facegate.access_groups (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            name text NOT NULL UNIQUE,
            created timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE facegate.doors (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            name text NOT NULL UNIQUE,
            role name UNIQUE,                       -- NULL once the door is removed
            enroll_group uuid REFERENCES facegate.access_groups(id) ON DELETE SET NULL,
            settings jsonb NOT NULL DEFAULT '{}',   -- the door's own decision/door settings, sent by door_hello
            last_seen timestamptz,
            created timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE facegate.group_doors (
            group_id uuid NOT NULL REFERENCES facegate.access_groups(id) ON DELETE CASCADE,
            door_id uuid NOT NULL REFERENCES facegate.doors(id) ON DELETE CASCADE,
            PRIMARY KEY (group_id, door_id)
        );

        CREATE TABLE facegate.people (
            id uuid PRIMARY KEY,
            name text NOT NULL,
            allowed boolean NOT NULL DEFAULT true,
            notes text NOT NULL DEFAULT '',
            enrolled_by uuid REFERENCES facegate.doors(id) ON DELETE SET NULL,
            created timestamptz NOT NULL DEFAULT now()
        );
        CREATE UNIQUE INDEX people_name ON facegate.people (lower(name));
        CREATE TABLE facegate.samples (
            id uuid PRIMARY KEY,
            person_id uuid NOT NULL REFERENCES facegate.people(id) ON DELETE CASCADE,
            descriptor vector(128) NOT NULL,
            thumbnail bytea,
            source text NOT NULL DEFAULT '',
            quality real,
            door_id uuid REFERENCES facegate.doors(id) ON DELETE SET NULL,
            created timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX samples_person ON facegate.samples (person_id);
        CREATE INDEX samples_hnsw ON facegate.samples USING hnsw (descriptor vector_l2_ops)
            WITH (m = 16, ef_construction = 64);
        CREATE TABLE facegate.group_members (
            group_id uuid NOT NULL REFERENCES facegate.access_groups(id) ON DELETE CASCADE,
            person_id uuid NOT NULL REFERENCES facegate.people(id) ON DELETE CASCADE,
            PRIMARY KEY (group_id, person_id)
        );
        CREATE INDEX group_members_person ON facegate.group_members (person_id);
        CREATE TABLE facegate.schedules (
            person_id uuid NOT NULL REFERENCES facegate.people(id) ON DELETE CASCADE,
            day smallint NOT NULL CHECK (day BETWEEN 0 AND 6),
            start_time text NOT NULL,
            end_time text NOT NULL,
            PRIMARY KEY (person_id, day, start_time)
        );
        CREATE TABLE facegate.negatives (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            person_id uuid NOT NULL REFERENCES facegate.people(id) ON DELETE CASCADE,
            descriptor vector(128) NOT NULL,
            created timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX negatives_person ON facegate.negatives (person_id);

        CREATE TABLE facegate.events (
            id uuid PRIMARY KEY,
            door_id uuid NOT NULL REFERENCES facegate.doors(id),
            time timestamptz NOT NULL,
            person_id uuid,                 -- no foreign key: a deleted person's history stays
            name text,
            verdict text NOT NULL,
            reason text NOT NULL DEFAULT '',
            distance real,
            margin real,
            runner_up text,
            runner_up_distance real,
            answer text NOT NULL DEFAULT '',
            descriptor vector(128),
            snapshot bytea,
            received timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX events_time ON facegate.events (time);
        CREATE INDEX events_hnsw ON facegate.events USING hnsw (descriptor vector_l2_ops)
            WITH (m = 16, ef_construction = 64);

        CREATE TABLE facegate.duplicates (
            person_a uuid NOT NULL REFERENCES facegate.people(id) ON DELETE CASCADE,
            person_b uuid NOT NULL REFERENCES facegate.people(id) ON DELETE CASCADE,
            distance real NOT NULL,
            flagged timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (person_a, person_b)
        );

        CREATE TABLE facegate.changes (
            seq bigserial PRIMARY KEY,
            person_id uuid NOT NULL UNIQUE,
            at timestamptz NOT NULL DEFAULT now()
        );
    """)
    cur.execute(sql.SQL("INSERT INTO facegate.access_groups(name) VALUES ({})").format(DEFAULT_GROUP))


def _log_person_tables(cur: psycopg.Cursor, later: bool) -> None:
    """Statement-level triggers that log every change to a person table for its person: the
    first ones (``later`` False), or those made after the change log (_LATER)."""
    for table, column in PERSON_TABLES.items():
        if (table in _LATER) != later:
            continue
        for event, lower, rows in (
            ("INSERT", "insert", "new_rows"),
            ("UPDATE", "update", "new_rows"),
            ("DELETE", "delete", "old_rows"),
        ):
            transition = "NEW TABLE AS new_rows" if rows == "new_rows" else "OLD TABLE AS old_rows"
            extra = ""
            if event == "UPDATE":  # a moved sample or membership changes its old person too
                transition = "OLD TABLE AS old_rows NEW TABLE AS new_rows"
                extra = f" UNION SELECT {column} FROM old_rows"
            cur.execute(f"""
                CREATE FUNCTION facegate.log_{table}_{lower}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM facegate.log_changes(ARRAY(SELECT {column} FROM {rows}{extra}));
                    RETURN NULL;
                END $$;
                CREATE TRIGGER log_{lower} AFTER {event} ON facegate.{table}
                    REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION facegate.log_{table}_{lower}();
            """)


def _change_log(cur: psycopg.Cursor) -> None:
    cur.execute(f"""
        CREATE FUNCTION facegate.log_changes(ids uuid[]) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = facegate, public, pg_temp AS $$
        BEGIN
            IF ids IS NULL OR cardinality(ids) = 0 THEN RETURN; END IF;
            PERFORM pg_advisory_xact_lock({CHANGE_LOCK});
            DELETE FROM facegate.changes WHERE person_id = ANY(ids);
            INSERT INTO facegate.changes(person_id) SELECT DISTINCT unnest(ids);
            PERFORM pg_notify('{CHANNEL}', '');
        END $$;
    """)
    _log_person_tables(cur, later=False)
    # a group opening a door, or closing it, changes what that door sees of every member
    for event, lower, rows in (("INSERT", "insert", "new_rows"), ("DELETE", "delete", "old_rows")):
        transition = "NEW TABLE AS new_rows" if rows == "new_rows" else "OLD TABLE AS old_rows"
        cur.execute(f"""
            CREATE FUNCTION facegate.log_group_doors_{lower}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM facegate.log_changes(ARRAY(SELECT m.person_id FROM facegate.group_members m
                                                   WHERE m.group_id IN (SELECT group_id FROM {rows})));
                RETURN NULL;
            END $$;
            CREATE TRIGGER log_{lower} AFTER {event} ON facegate.group_doors
                REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION facegate.log_group_doors_{lower}();
        """)


def _roles(cur: psycopg.Cursor) -> None:
    for role in (ADMIN_ROLE, DOOR_ROLE):
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
    cur.execute(f"""
        REVOKE ALL ON SCHEMA facegate FROM PUBLIC;
        GRANT USAGE ON SCHEMA facegate TO {ADMIN_ROLE}, {DOOR_ROLE};

        CREATE FUNCTION facegate.my_door() RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER
            SET search_path = facegate, public, pg_temp AS $$
            SELECT id FROM facegate.doors WHERE role = session_user
        $$;
        CREATE FUNCTION facegate.my_people() RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER
            SET search_path = facegate, public, pg_temp AS $$
            SELECT m.person_id FROM facegate.group_members m JOIN facegate.group_doors g USING (group_id)
            WHERE g.door_id = facegate.my_door()
        $$;
        REVOKE ALL ON FUNCTION facegate.my_door(), facegate.my_people(), facegate.log_changes(uuid[]) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION facegate.my_door(), facegate.my_people() TO {DOOR_ROLE}, {ADMIN_ROLE};
        GRANT EXECUTE ON FUNCTION facegate.log_changes(uuid[]) TO {ADMIN_ROLE};

        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA facegate TO {ADMIN_ROLE};
        REVOKE INSERT, UPDATE, DELETE ON facegate.changes, facegate.events FROM {ADMIN_ROLE};
        GRANT USAGE ON ALL SEQUENCES IN SCHEMA facegate TO {ADMIN_ROLE};
        GRANT SELECT ON facegate.people, facegate.samples, facegate.schedules, facegate.negatives,
                        facegate.changes, facegate.site_settings TO {DOOR_ROLE};
        GRANT SELECT (id, name) ON facegate.doors TO {DOOR_ROLE};
        GRANT INSERT, SELECT (id) ON facegate.events TO {DOOR_ROLE};   -- SELECT (id): ON CONFLICT (id) needs it
    """)
    for table in ("people", "samples", "schedules", "negatives", "events", "doors"):
        cur.execute(f"ALTER TABLE facegate.{table} ENABLE ROW LEVEL SECURITY")
        cur.execute(f"CREATE POLICY admin_all ON facegate.{table} TO {ADMIN_ROLE} USING (true) WITH CHECK (true)")
    for table, column in (("people", "id"), ("samples", "person_id"), ("schedules", "person_id"), ("negatives", "person_id")):
        cur.execute(
            f"CREATE POLICY door_reads ON facegate.{table} FOR SELECT TO {DOOR_ROLE} "
            f"USING ({column} IN (SELECT facegate.my_people()))"
        )
    cur.execute(
        f"CREATE POLICY door_appends ON facegate.events FOR INSERT TO {DOOR_ROLE} WITH CHECK (door_id = facegate.my_door())"
    )
    cur.execute(f"CREATE POLICY door_own_ids ON facegate.events FOR SELECT TO {DOOR_ROLE} USING (door_id = facegate.my_door())")
    cur.execute(f"CREATE POLICY door_itself ON facegate.doors FOR SELECT TO {DOOR_ROLE} USING (true)")


def _snapshot_privacy(cur: psycopg.Cursor) -> None:
    """Snapshots reach the site only if the site keeps them (a per-site privacy setting, off by
    default): enforced here, so a door with an old setting cannot store one."""
    cur.execute("""
        CREATE FUNCTION facegate.events_privacy() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.snapshot IS NOT NULL AND coalesce((SELECT value FROM facegate.site_settings
                                                      WHERE key = 'keep_snapshots'), 'false') <> 'true' THEN
                NEW.snapshot := NULL;
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER privacy BEFORE INSERT ON facegate.events FOR EACH ROW EXECUTE FUNCTION facegate.events_privacy();
    """)


def _door_functions(cur: psycopg.Cursor) -> None:
    cur.execute(f"""
        CREATE FUNCTION facegate.door_enroll(p_person uuid, p_name text, p_allowed boolean, p_samples uuid[],
                                            p_vectors real[], p_thumbnails bytea[], p_sources text[],
                                            p_qualities real[], p_created timestamptz[])
        RETURNS TABLE (outcome text, name text, added integer)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = facegate, public, pg_temp AS $$
        -- A door's own enrollment, idempotent: a new person (kept apart from a namesake, flagged
        -- as a likely duplicate when a face is that near), or new samples of a person it sees.
        -- A person deleted centrally stays deleted: the samples are dropped ('deleted').
        DECLARE
            door facegate.doors;
            final_name text := p_name;
            n integer := coalesce(cardinality(p_samples), 0);
            k integer := 0;
            inserted integer;
        BEGIN
            SELECT * INTO door FROM facegate.doors WHERE role = session_user;
            IF door.id IS NULL THEN RAISE EXCEPTION 'only a door of this site may enroll' USING ERRCODE = '42501'; END IF;
            IF cardinality(p_vectors) <> n * 128 THEN RAISE EXCEPTION 'need 128 numbers per sample'; END IF;
            IF EXISTS (SELECT 1 FROM facegate.people WHERE id = p_person) THEN
                IF NOT EXISTS (SELECT 1 FROM facegate.my_people() AS p(id) WHERE p.id = p_person)
                   AND (SELECT enrolled_by FROM facegate.people WHERE id = p_person) IS DISTINCT FROM door.id THEN
                    RETURN QUERY SELECT 'refused'::text, NULL::text, 0;
                    RETURN;
                END IF;
                SELECT p.name INTO final_name FROM facegate.people p WHERE p.id = p_person;
                outcome := 'added';
            ELSIF EXISTS (SELECT 1 FROM facegate.changes WHERE person_id = p_person) THEN
                RETURN QUERY SELECT 'deleted'::text, NULL::text, 0;
                RETURN;
            ELSE
                WHILE EXISTS (SELECT 1 FROM facegate.people WHERE lower(people.name) = lower(final_name)) LOOP
                    k := k + 1;
                    final_name := p_name || ' (' || door.name || CASE WHEN k > 1 THEN ' ' || k ELSE '' END || ')';
                END LOOP;
                INSERT INTO facegate.people(id, name, allowed, enrolled_by) VALUES (p_person, final_name, p_allowed, door.id);
                IF door.enroll_group IS NOT NULL THEN
                    INSERT INTO facegate.group_members VALUES (door.enroll_group, p_person) ON CONFLICT DO NOTHING;
                END IF;
                outcome := 'created';
            END IF;
            INSERT INTO facegate.samples(id, person_id, descriptor, thumbnail, source, quality, door_id, created)
                SELECT p_samples[i], p_person, (p_vectors[(i - 1) * 128 + 1 : i * 128])::vector(128),
                       p_thumbnails[i], coalesce(p_sources[i], ''), p_qualities[i], door.id, coalesce(p_created[i], now())
                FROM generate_series(1, n) AS i
                ON CONFLICT (id) DO NOTHING;
            GET DIAGNOSTICS inserted = ROW_COUNT;
            IF inserted > 0 THEN  -- the same face under another person: a likely duplicate
                INSERT INTO facegate.duplicates(person_a, person_b, distance)
                    SELECT LEAST(p_person, near.person_id), GREATEST(p_person, near.person_id), min(near.d)
                    FROM facegate.samples mine
                    CROSS JOIN LATERAL (
                        SELECT o.person_id, o.descriptor <-> mine.descriptor AS d FROM facegate.samples o
                        WHERE o.person_id <> p_person ORDER BY o.descriptor <-> mine.descriptor LIMIT 3) near
                    WHERE mine.id = ANY(p_samples)
                      AND near.d < (SELECT value::real FROM facegate.site_settings WHERE key = 'duplicate_distance')
                    GROUP BY 1, 2
                    ON CONFLICT DO NOTHING;
            END IF;
            RETURN QUERY SELECT outcome, final_name, inserted;
        END $$;

        CREATE FUNCTION facegate.door_update(p_person uuid, p_name text, p_allowed boolean)
        RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = facegate, public, pg_temp AS $$
        -- A door may rename (or allow/deny) only people it enrolled itself; renames are applied
        -- in the order they reach the site, so the last one to arrive wins everywhere.
        DECLARE
            door uuid := facegate.my_door();
            who facegate.people;
        BEGIN
            SELECT * INTO who FROM facegate.people WHERE id = p_person;
            IF who.id IS NULL THEN RETURN 'deleted'; END IF;
            IF door IS NULL OR who.enrolled_by IS DISTINCT FROM door THEN RETURN 'refused'; END IF;
            IF EXISTS (SELECT 1 FROM facegate.people WHERE lower(name) = lower(p_name) AND id <> p_person) THEN
                RETURN 'name taken';
            END IF;
            UPDATE facegate.people SET name = p_name, allowed = p_allowed WHERE id = p_person
                AND (name IS DISTINCT FROM p_name OR allowed IS DISTINCT FROM p_allowed);
            RETURN 'applied';
        END $$;

        CREATE FUNCTION facegate.door_hello(p_settings jsonb) RETURNS uuid
        LANGUAGE sql SECURITY DEFINER SET search_path = facegate, public, pg_temp AS $$
            UPDATE facegate.doors SET last_seen = now(), settings = coalesce(p_settings, settings)
            WHERE role = session_user RETURNING id
        $$;

        CREATE FUNCTION facegate.add_door(p_name text, p_verifier text) RETURNS TABLE (door_id uuid, role name)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = facegate, public, pg_temp AS $$
        -- Only the admin may call this. p_verifier is a SCRAM-SHA-256 verifier made on the door's
        -- PC: the door's password itself never reaches the server or its logs.
        DECLARE
            new_id uuid := gen_random_uuid();
            new_role name := 'facegate_door_' || replace(new_id::text, '-', '');
            everyone uuid := (SELECT id FROM facegate.access_groups WHERE name = '{DEFAULT_GROUP}');
        BEGIN
            IF p_verifier NOT LIKE 'SCRAM-SHA-256$%' THEN RAISE EXCEPTION 'a SCRAM verifier is needed'; END IF;
            IF EXISTS (SELECT 1 FROM facegate.doors WHERE lower(name) = lower(p_name) AND doors.role IS NOT NULL) THEN
                RAISE EXCEPTION 'the site already has a door called %', p_name USING ERRCODE = '23505';
            END IF;
            EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE {DOOR_ROLE}', new_role, p_verifier);
            UPDATE facegate.doors SET name = name || ' (removed ' || id || ')'   -- a removed door's name is free again
                WHERE lower(name) = lower(p_name);
            INSERT INTO facegate.doors(id, name, role, enroll_group) VALUES (new_id, p_name, new_role, everyone);
            IF everyone IS NOT NULL THEN INSERT INTO facegate.group_doors VALUES (everyone, new_id); END IF;
            RETURN QUERY SELECT new_id, new_role;
        END $$;

        CREATE FUNCTION facegate.remove_door(p_name text) RETURNS boolean
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = facegate, public, pg_temp AS $$
        DECLARE
            gone name;
        BEGIN
            UPDATE facegate.doors d SET role = NULL FROM (SELECT id, role FROM facegate.doors WHERE lower(name) = lower(p_name)) old
                WHERE d.id = old.id RETURNING old.role INTO gone;
            IF gone IS NULL THEN RETURN false; END IF;
            DELETE FROM facegate.group_doors WHERE door_id = (SELECT id FROM facegate.doors WHERE lower(name) = lower(p_name));
            EXECUTE format('DROP ROLE IF EXISTS %I', gone);
            RETURN true;
        END $$;

        REVOKE ALL ON FUNCTION facegate.door_enroll(uuid, text, boolean, uuid[], real[], bytea[], text[], real[], timestamptz[]),
                               facegate.door_update(uuid, text, boolean), facegate.door_hello(jsonb),
                               facegate.add_door(text, text), facegate.remove_door(text) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION facegate.door_enroll(uuid, text, boolean, uuid[], real[], bytea[], text[], real[], timestamptz[]),
                                  facegate.door_update(uuid, text, boolean), facegate.door_hello(jsonb)
            TO {DOOR_ROLE}, {ADMIN_ROLE};
        GRANT EXECUTE ON FUNCTION facegate.add_door(text, text), facegate.remove_door(text) TO {ADMIN_ROLE};
    """)


def _proposals(cur: psycopg.Cursor) -> None:
    """What a door adds is a proposal; an admin's word decides what reaches other doors.

    - Provenance: every sample says how it was taken (photo, click, review, learning, visitor,
      scan), who took it (the operator's account at the door) and where (``door_id``, set from
      the door's own login, never from what the door sends), and who approved it, when.
    - A door's new people and every sample a door sends are ``proposed``: the door that proposed
      them sees them (it uses them at once, offline too), no other door does, until an admin
      approves the proposal (``facegate site approve ID``); a rejection deletes them everywhere.
    - ``door_update`` carries only a name: a door never changes ``allowed``, so an admin's block
      always wins over a door's stale copy.
    - New doors get a group of their own (opening that door only) for their enrollments; no
      existing group opens a new door until an admin says so.
    - The change log names, per person, the doors that may see them now or ever could: a door
      reads only those rows (row-level security), so it learns of a deletion or a revocation of
      someone it knew, and nothing of anyone else.
    """
    cur.execute(f"""
        ALTER TABLE facegate.people ADD COLUMN status text NOT NULL DEFAULT 'approved'
            CHECK (status IN ('approved', 'proposed'));
        CREATE TABLE facegate.proposals (
            id bigserial PRIMARY KEY,
            door_id uuid NOT NULL REFERENCES facegate.doors(id),
            person_id uuid NOT NULL,            -- no foreign key: a rejected person's record stays
            name text NOT NULL,
            new_person boolean NOT NULL,
            created timestamptz NOT NULL DEFAULT now(),
            decided timestamptz,
            decision text CHECK (decision IN ('approved', 'rejected')),
            decided_by text
        );
        CREATE UNIQUE INDEX proposals_open ON facegate.proposals (door_id, person_id) WHERE decided IS NULL;
        ALTER TABLE facegate.samples
            ADD COLUMN status text NOT NULL DEFAULT 'approved' CHECK (status IN ('approved', 'proposed')),
            ADD COLUMN how text NOT NULL DEFAULT '',
            ADD COLUMN added_by text NOT NULL DEFAULT '',
            ADD COLUMN proposal bigint REFERENCES facegate.proposals(id) ON DELETE SET NULL,
            ADD COLUMN approved_by text,
            ADD COLUMN approved timestamptz;
        CREATE INDEX samples_proposal ON facegate.samples (proposal) WHERE proposal IS NOT NULL;
        GRANT SELECT, INSERT, UPDATE, DELETE ON facegate.proposals TO {ADMIN_ROLE};
        GRANT USAGE ON SEQUENCE facegate.proposals_id_seq TO {ADMIN_ROLE};

        CREATE FUNCTION facegate.visible_doors(p_person uuid) RETURNS uuid[] LANGUAGE sql STABLE SECURITY DEFINER
            SET search_path = facegate, public, pg_temp AS $$
            SELECT coalesce(array_agg(DISTINCT g.door_id), '{{}}') FROM facegate.group_members m
            JOIN facegate.group_doors g USING (group_id) JOIN facegate.people p ON p.id = m.person_id
            WHERE m.person_id = p_person AND (p.status = 'approved' OR p.enrolled_by = g.door_id)
        $$;
        REVOKE ALL ON FUNCTION facegate.visible_doors(uuid) FROM PUBLIC;

        ALTER TABLE facegate.changes ADD COLUMN doors uuid[] NOT NULL DEFAULT '{{}}';
        -- rows from before: every door may have seen them (it could read the whole log then)
        UPDATE facegate.changes SET doors = ARRAY(SELECT id FROM facegate.doors);
        CREATE OR REPLACE FUNCTION facegate.log_changes(ids uuid[]) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = facegate, public, pg_temp AS $$
        DECLARE
            seen jsonb;
        BEGIN
            IF ids IS NULL OR cardinality(ids) = 0 THEN RETURN; END IF;
            PERFORM pg_advisory_xact_lock({CHANGE_LOCK});
            SELECT coalesce(jsonb_object_agg(person_id::text, to_jsonb(doors)), '{{}}') INTO seen
                FROM facegate.changes WHERE person_id = ANY(ids);
            DELETE FROM facegate.changes WHERE person_id = ANY(ids);
            INSERT INTO facegate.changes(person_id, doors)
                SELECT i, ARRAY(SELECT DISTINCT d FROM unnest(facegate.visible_doors(i) || ARRAY(
                           SELECT jsonb_array_elements_text(coalesce(seen -> i::text, '[]'))::uuid)) AS d)
                FROM (SELECT DISTINCT unnest(ids) AS i) AS x;
            PERFORM pg_notify('{CHANNEL}', '');
        END $$;
        ALTER TABLE facegate.changes ENABLE ROW LEVEL SECURITY;
        CREATE POLICY admin_all ON facegate.changes TO {ADMIN_ROLE} USING (true) WITH CHECK (true);
        CREATE POLICY door_reads ON facegate.changes FOR SELECT TO {DOOR_ROLE} USING (facegate.my_door() = ANY(doors));

        DROP POLICY door_reads ON facegate.people;
        CREATE POLICY door_reads ON facegate.people FOR SELECT TO {DOOR_ROLE}
            USING (id IN (SELECT facegate.my_people()) AND (status = 'approved' OR enrolled_by = facegate.my_door()));
        DROP POLICY door_reads ON facegate.samples;
        CREATE POLICY door_reads ON facegate.samples FOR SELECT TO {DOOR_ROLE}
            USING (person_id IN (SELECT facegate.my_people()) AND (status = 'approved' OR door_id = facegate.my_door()));

        DROP FUNCTION facegate.door_enroll(uuid, text, boolean, uuid[], real[], bytea[], text[], real[], timestamptz[]);
        CREATE FUNCTION facegate.door_enroll(p_person uuid, p_name text, p_allowed boolean, p_samples uuid[],
                                            p_vectors real[], p_thumbnails bytea[], p_sources text[],
                                            p_qualities real[], p_created timestamptz[], p_hows text[], p_added_by text)
        RETURNS TABLE (outcome text, name text, added integer, proposal bigint)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = facegate, public, pg_temp AS $$
        -- A door's enrollment, idempotent, always as a proposal: a new person (kept apart from a
        -- namesake, flagged as a likely duplicate when a face is that near), or new samples of a
        -- person it sees. A person deleted centrally stays deleted: the samples are dropped.
        DECLARE
            door facegate.doors;
            who facegate.people;
            final_name text := p_name;
            n integer := coalesce(cardinality(p_samples), 0);
            k integer := 0;
            inserted integer;
            prop bigint;
        BEGIN
            SELECT * INTO door FROM facegate.doors WHERE role = session_user;
            IF door.id IS NULL THEN RAISE EXCEPTION 'only a door of this site may enroll' USING ERRCODE = '42501'; END IF;
            IF cardinality(p_vectors) <> n * 128 THEN RAISE EXCEPTION 'need 128 numbers per sample'; END IF;
            SELECT * INTO who FROM facegate.people WHERE id = p_person;
            IF who.id IS NOT NULL THEN
                IF (who.status = 'proposed' OR NOT EXISTS (SELECT 1 FROM facegate.my_people() AS p(id) WHERE p.id = p_person))
                   AND who.enrolled_by IS DISTINCT FROM door.id THEN
                    RETURN QUERY SELECT 'refused'::text, NULL::text, 0, NULL::bigint;
                    RETURN;
                END IF;
                final_name := who.name;
                outcome := 'added';
            ELSIF EXISTS (SELECT 1 FROM facegate.changes WHERE person_id = p_person) THEN
                RETURN QUERY SELECT 'deleted'::text, NULL::text, 0, NULL::bigint;
                RETURN;
            ELSE
                WHILE EXISTS (SELECT 1 FROM facegate.people WHERE lower(people.name) = lower(final_name)) LOOP
                    k := k + 1;
                    final_name := p_name || ' (' || door.name || CASE WHEN k > 1 THEN ' ' || k ELSE '' END || ')';
                END LOOP;
                INSERT INTO facegate.people(id, name, allowed, enrolled_by, status)
                    VALUES (p_person, final_name, p_allowed, door.id, 'proposed');
                IF door.enroll_group IS NOT NULL THEN
                    INSERT INTO facegate.group_members VALUES (door.enroll_group, p_person) ON CONFLICT DO NOTHING;
                END IF;
                outcome := 'created';
            END IF;
            SELECT id INTO prop FROM facegate.proposals WHERE door_id = door.id AND person_id = p_person AND decided IS NULL;
            IF prop IS NULL THEN
                INSERT INTO facegate.proposals(door_id, person_id, name, new_person)
                    VALUES (door.id, p_person, final_name, outcome = 'created') RETURNING id INTO prop;
            END IF;
            INSERT INTO facegate.samples(id, person_id, descriptor, thumbnail, source, quality, door_id, created,
                                         status, how, added_by, proposal)
                SELECT p_samples[i], p_person, (p_vectors[(i - 1) * 128 + 1 : i * 128])::vector(128),
                       p_thumbnails[i], coalesce(p_sources[i], ''), p_qualities[i], door.id, coalesce(p_created[i], now()),
                       'proposed', coalesce(p_hows[i], ''), coalesce(p_added_by, ''), prop
                FROM generate_series(1, n) AS i
                ON CONFLICT (id) DO NOTHING;
            GET DIAGNOSTICS inserted = ROW_COUNT;
            IF NOT EXISTS (SELECT 1 FROM facegate.samples s WHERE s.proposal = prop) AND outcome = 'added' THEN
                DELETE FROM facegate.proposals WHERE id = prop;   -- a retried push: nothing new to decide
                prop := NULL;
            END IF;
            IF inserted > 0 THEN  -- the same face under another person: a likely duplicate
                INSERT INTO facegate.duplicates(person_a, person_b, distance)
                    SELECT LEAST(p_person, near.person_id), GREATEST(p_person, near.person_id), min(near.d)
                    FROM facegate.samples mine
                    CROSS JOIN LATERAL (
                        SELECT o.person_id, o.descriptor <-> mine.descriptor AS d FROM facegate.samples o
                        WHERE o.person_id <> p_person ORDER BY o.descriptor <-> mine.descriptor LIMIT 3) near
                    WHERE mine.id = ANY(p_samples)
                      AND near.d < (SELECT value::real FROM facegate.site_settings WHERE key = 'duplicate_distance')
                    GROUP BY 1, 2
                    ON CONFLICT DO NOTHING;
            END IF;
            RETURN QUERY SELECT outcome, final_name, inserted, prop;
        END $$;

        CREATE OR REPLACE FUNCTION facegate.door_update(p_person uuid, p_name text, p_allowed boolean)
        RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = facegate, public, pg_temp AS $$
        -- A door may rename people it enrolled itself, nothing more: ``p_allowed`` is ignored (a
        -- door never allows or blocks anyone; an admin's block wins over a door's stale copy).
        DECLARE
            door uuid := facegate.my_door();
            who facegate.people;
        BEGIN
            SELECT * INTO who FROM facegate.people WHERE id = p_person;
            IF who.id IS NULL THEN RETURN 'deleted'; END IF;
            IF door IS NULL OR who.enrolled_by IS DISTINCT FROM door THEN RETURN 'refused'; END IF;
            IF EXISTS (SELECT 1 FROM facegate.people WHERE lower(name) = lower(p_name) AND id <> p_person) THEN
                RETURN 'name taken';
            END IF;
            UPDATE facegate.people SET name = p_name WHERE id = p_person AND name IS DISTINCT FROM p_name;
            RETURN 'applied';
        END $$;

        CREATE OR REPLACE FUNCTION facegate.add_door(p_name text, p_verifier text) RETURNS TABLE (door_id uuid, role name)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = facegate, public, pg_temp AS $$
        -- Only the admin may call this. p_verifier is a SCRAM-SHA-256 verifier made on the door's
        -- PC: the door's password itself never reaches the server or its logs. The new door's
        -- enrollments join a group that opens that door only; no other group opens it yet.
        DECLARE
            new_id uuid := gen_random_uuid();
            new_role name := 'facegate_door_' || replace(new_id::text, '-', '');
            own uuid;
        BEGIN
            IF p_verifier NOT LIKE 'SCRAM-SHA-256$%' THEN RAISE EXCEPTION 'a SCRAM verifier is needed'; END IF;
            IF EXISTS (SELECT 1 FROM facegate.doors WHERE lower(name) = lower(p_name) AND doors.role IS NOT NULL) THEN
                RAISE EXCEPTION 'the site already has a door called %', p_name USING ERRCODE = '23505';
            END IF;
            EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE {DOOR_ROLE}', new_role, p_verifier);
            UPDATE facegate.doors SET name = name || ' (removed ' || id || ')'   -- a removed door's name is free again
                WHERE lower(name) = lower(p_name);
            INSERT INTO facegate.access_groups(name) VALUES ('enrolled at ' || p_name) ON CONFLICT (name) DO NOTHING;
            SELECT id INTO own FROM facegate.access_groups WHERE name = 'enrolled at ' || p_name;
            INSERT INTO facegate.doors(id, name, role, enroll_group) VALUES (new_id, p_name, new_role, own);
            INSERT INTO facegate.group_doors VALUES (own, new_id);
            RETURN QUERY SELECT new_id, new_role;
        END $$;

        REVOKE ALL ON FUNCTION facegate.door_enroll(uuid, text, boolean, uuid[], real[], bytea[], text[], real[],
                                                    timestamptz[], text[], text) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION facegate.door_enroll(uuid, text, boolean, uuid[], real[], bytea[], text[], real[],
                                                       timestamptz[], text[], text) TO {DOOR_ROLE}, {ADMIN_ROLE};
    """)


def _timeline(cur: psycopg.Cursor) -> None:
    """The server's WAL timeline, for doors to tell a promoted standby (a new timeline) from an
    old primary that came back (core.site.standby): readable by every login of the site. The
    site's servers (a primary and its standbys) are a site setting doors follow."""
    cur.execute(f"""
        CREATE FUNCTION facegate.site_timeline() RETURNS integer LANGUAGE sql VOLATILE SECURITY DEFINER
            SET search_path = pg_catalog, pg_temp AS $$
            SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::integer
        $$;
        REVOKE ALL ON FUNCTION facegate.site_timeline() FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION facegate.site_timeline() TO {ADMIN_ROLE}, {DOOR_ROLE};
        GRANT pg_monitor TO {ADMIN_ROLE};   -- site standby status: each standby's state and lag
        INSERT INTO facegate.site_settings VALUES ('servers', '') ON CONFLICT DO NOTHING;
    """)


def _person_card(cur: psycopg.Cursor) -> None:
    """Each person's credential number (what a door reports to an access panel after a grant):
    written by the admin only, like ``allowed`` (the admin role's table grant covers it; doors read
    it with the rest of the row), and unique across the site."""
    cur.execute("""
        ALTER TABLE facegate.people ADD COLUMN card text;
        CREATE UNIQUE INDEX people_card ON facegate.people (card);
    """)


def _personal_threshold(cur: psycopg.Cursor) -> None:
    """A person's own stricter threshold (NULL: each door's), set by the admin only (a door has
    no UPDATE on people) and pulled by every door like the rest of the person (core.gallery.schema)."""
    cur.execute(
        "ALTER TABLE facegate.people ADD COLUMN threshold real CHECK (threshold IS NULL OR (threshold > 0 AND threshold < 2))"
    )


def _access_chain(cur: psycopg.Cursor) -> None:
    """Each door's access-log rows keep their hash chain here (core.gallery.chain): the door's
    own row number, the previous row's hash and the row's hash, so ``facegate site access-log
    --verify`` walks each door's chain where the door PC cannot change it. The distances become
    double precision: the hash covers them exactly as the door stored them."""
    cur.execute("""
        ALTER TABLE facegate.events
            ALTER COLUMN distance TYPE double precision,
            ALTER COLUMN margin TYPE double precision,
            ALTER COLUMN runner_up_distance TYPE double precision,
            ADD COLUMN door_seq bigint,
            ADD COLUMN prev_hash text,
            ADD COLUMN hash text;
        CREATE INDEX events_door_seq ON facegate.events (door_id, door_seq);
    """)


def _visitor_passes(cur: psycopg.Cursor) -> None:
    """Visitor passes (core.door.passes), set by the admin only: doors read their people's, like
    schedules, and each change is logged for the person so every door pulls it."""
    cur.execute(f"""
        CREATE TABLE facegate.passes (
            person_id uuid PRIMARY KEY REFERENCES facegate.people(id) ON DELETE CASCADE,
            valid_from timestamptz,
            valid_until timestamptz NOT NULL,
            CHECK (valid_from IS NULL OR valid_from < valid_until)
        );
        GRANT SELECT, INSERT, UPDATE, DELETE ON facegate.passes TO {ADMIN_ROLE};
        GRANT SELECT ON facegate.passes TO {DOOR_ROLE};
        ALTER TABLE facegate.passes ENABLE ROW LEVEL SECURITY;
        CREATE POLICY admin_all ON facegate.passes TO {ADMIN_ROLE} USING (true) WITH CHECK (true);
        CREATE POLICY door_reads ON facegate.passes FOR SELECT TO {DOOR_ROLE}
            USING (person_id IN (SELECT facegate.my_people()));
    """)
    _log_person_tables(cur, later=True)


def _anti_passback(cur: psycopg.Cursor) -> None:
    """Anti-passback across the site (core.site.passback): one row per person, in or out, and the
    door and time of their last passage. A door claims a passage through ``door_passage`` only,
    which locks the person's row (SELECT ... FOR UPDATE; a new person's row is made first, the
    unique key making the second door wait for the first), so two doors granting the same person
    at once are decided one after the other: exactly one entry wins under the hard rule.
    A hard refusal changes nothing; a soft one (and any exit) records the passage. The admin may
    read and clear a person's state (someone who left by a door without a reader)."""
    cur.execute(f"""
        CREATE TABLE facegate.presence (
            person_id uuid PRIMARY KEY REFERENCES facegate.people(id) ON DELETE CASCADE,
            state text NOT NULL CHECK (state IN ('in', 'out')),
            door_id uuid REFERENCES facegate.doors(id) ON DELETE SET NULL,
            at timestamptz NOT NULL DEFAULT now()
        );
        GRANT SELECT, DELETE ON facegate.presence TO {ADMIN_ROLE};

        CREATE FUNCTION facegate.door_passage(p_person uuid, p_direction text, p_hard boolean, p_at timestamptz)
        RETURNS TABLE (outcome text, last_door text, last_at timestamptz)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = facegate, public, pg_temp AS $$
        -- 'ok' (recorded), 'refused' (hard, nothing recorded), 'violation' (soft: recorded anyway),
        -- 'unknown' (a person this door may not see), 'stale' (an offline passage older than the
        -- person's last one: nothing recorded); with the person's previous door and time.
        -- p_at: when the passage happened (a door reconciling its offline passages), NULL: now.
        DECLARE
            me uuid := facegate.my_door();
            prev record;
        BEGIN
            IF p_direction NOT IN ('in', 'out') THEN
                RAISE EXCEPTION 'a passage is in or out, not %', p_direction;
            END IF;
            IF me IS NULL OR p_person NOT IN (SELECT facegate.my_people()) THEN
                RETURN QUERY SELECT 'unknown'::text, NULL::text, NULL::timestamptz;
                RETURN;
            END IF;
            INSERT INTO facegate.presence(person_id, state, door_id, at) VALUES (p_person, p_direction, me, coalesce(p_at, now()))
                ON CONFLICT (person_id) DO NOTHING;
            IF FOUND THEN
                RETURN QUERY SELECT 'ok'::text, NULL::text, NULL::timestamptz;
                RETURN;
            END IF;
            SELECT p.state, d.name AS door, p.at INTO prev FROM facegate.presence p
                LEFT JOIN facegate.doors d ON d.id = p.door_id WHERE p.person_id = p_person FOR UPDATE OF p;
            IF p_at IS NOT NULL AND prev.at >= p_at THEN
                RETURN QUERY SELECT 'stale'::text, prev.door, prev.at;
                RETURN;
            END IF;
            IF prev.state = p_direction AND p_hard THEN
                RETURN QUERY SELECT 'refused'::text, prev.door, prev.at;
                RETURN;
            END IF;
            UPDATE facegate.presence SET state = p_direction, door_id = me, at = coalesce(p_at, now()) WHERE person_id = p_person;
            RETURN QUERY SELECT (CASE WHEN prev.state = p_direction THEN 'violation' ELSE 'ok' END)::text, prev.door, prev.at;
        END $$;
        REVOKE ALL ON FUNCTION facegate.door_passage(uuid, text, boolean, timestamptz) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION facegate.door_passage(uuid, text, boolean, timestamptz) TO {DOOR_ROLE};
    """)


def _access_modes(cur: psycopg.Cursor) -> None:
    """How each person opens a door (face, face+pin, face+card) with their PIN and duress PIN as
    salted scrypt records made on the admin's PC (core.gallery.secret): the admin's to set, a
    door's to read (its SELECT on people; it verifies offline too). A door's role has no UPDATE
    on people and door_update renames only, so no door can change them."""
    cur.execute("""
        ALTER TABLE facegate.people
            ADD COLUMN access text NOT NULL DEFAULT 'face' CHECK (access IN ('face', 'face+pin', 'face+card')),
            ADD COLUMN pin text,
            ADD COLUMN duress_pin text;
    """)


def _events_inbox(cur: psycopg.Cursor) -> None:
    """Events land fast and stay searchable (core.site.inbox): a door appends to ``events_inbox``,
    which has no vector index (an HNSW insert per row held pushes to about 200 events/s); a move
    (``index_events``, run by admin PCs) takes the oldest of them into ``events_indexed`` (the
    former ``events``, with its HNSW index) in one transaction, so a kill mid-move loses and
    doubles nothing. ``events`` becomes a view over both, each event once: a push a door retries
    after its first copy was moved lands in the inbox again and is hidden there (its id is in the
    indexed table) until the next move drops it, so readers never see an event twice or miss one
    just pushed (one statement, one snapshot).

    Per-row work on the inbox is kept small, which is what a push's rate is made of: no foreign
    key on ``door_id`` (RLS makes it the pushing door's own id; the indexed table keeps the key,
    checked by the move) and the privacy trigger runs only for rows that carry a snapshot.

    Rights: a door keeps appending its own events only (RLS ``WITH CHECK`` on the inbox, the
    snapshot privacy trigger moves there) and loses every right on the indexed table; the admin
    reads all three and runs the move, which copies rows verbatim (it still cannot write an event
    itself). The view runs with its owner's rights and is granted to the admin only. Both tables
    keep the same columns in the same order (the move and the view select ``*``): a migration
    adding a column to events adds it to both."""
    cur.execute(f"""
        ALTER TABLE facegate.events RENAME TO events_indexed;
        DROP POLICY door_appends ON facegate.events_indexed;
        DROP POLICY door_own_ids ON facegate.events_indexed;
        DROP TRIGGER privacy ON facegate.events_indexed;
        REVOKE ALL ON facegate.events_indexed FROM {DOOR_ROLE};

        CREATE TABLE facegate.events_inbox (LIKE facegate.events_indexed INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
        ALTER TABLE facegate.events_inbox ADD PRIMARY KEY (id);
        CREATE INDEX events_inbox_received ON facegate.events_inbox (received);
        CREATE TRIGGER privacy BEFORE INSERT ON facegate.events_inbox FOR EACH ROW WHEN (NEW.snapshot IS NOT NULL)
            EXECUTE FUNCTION facegate.events_privacy();
        ALTER TABLE facegate.events_inbox ENABLE ROW LEVEL SECURITY;
        CREATE POLICY admin_all ON facegate.events_inbox TO {ADMIN_ROLE} USING (true) WITH CHECK (true);
        CREATE POLICY door_appends ON facegate.events_inbox FOR INSERT TO {DOOR_ROLE} WITH CHECK (door_id = facegate.my_door());
        CREATE POLICY door_own_ids ON facegate.events_inbox FOR SELECT TO {DOOR_ROLE} USING (door_id = facegate.my_door());
        GRANT INSERT, SELECT (id) ON facegate.events_inbox TO {DOOR_ROLE};   -- SELECT (id): ON CONFLICT (id) needs it
        GRANT SELECT ON facegate.events_inbox TO {ADMIN_ROLE};

        CREATE VIEW facegate.events AS
            SELECT * FROM facegate.events_indexed
            UNION ALL
            SELECT * FROM facegate.events_inbox n
            WHERE NOT EXISTS (SELECT 1 FROM facegate.events_indexed i WHERE i.id = n.id);
        GRANT SELECT ON facegate.events TO {ADMIN_ROLE};

        CREATE FUNCTION facegate.index_events(p_limit integer) RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = facegate, public, pg_temp AS $$
        -- The oldest p_limit events of the inbox into the indexed table, in the caller's one
        -- transaction; rows another mover holds are skipped, a row the indexed table has already
        -- (a retried push) is dropped. How many left the inbox.
        DECLARE
            moved integer;
        BEGIN
            WITH batch AS (
                DELETE FROM facegate.events_inbox WHERE id IN (
                    SELECT id FROM facegate.events_inbox ORDER BY received LIMIT p_limit FOR UPDATE SKIP LOCKED)
                RETURNING *),
            kept AS (INSERT INTO facegate.events_indexed SELECT * FROM batch ON CONFLICT (id) DO NOTHING)
            SELECT count(*) INTO moved FROM batch;
            RETURN moved;
        END $$;
        REVOKE ALL ON FUNCTION facegate.index_events(integer) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION facegate.index_events(integer) TO {ADMIN_ROLE};
    """)


def _samples_index(cur: psycopg.Cursor) -> None:
    """The samples' HNSW index rebuilt with m=24, ef_construction=128: site-wide top-10 search
    (core.site.search, ef_search 100) measured recall@10 0.98 against exact search at 6.7 ms over
    200k samples, where the first index's m=16, ef_construction=64 gave 0.87 (bench/site_bench.py,
    docs/sites.md). An existing site's upgrade rebuilds it in this migration's transaction, with
    enough memory for the graph (pgvector builds in memory, in parallel, when it fits): minutes
    for a few hundred thousand samples on a small server, during which enrollments wait."""
    _rebuild_samples_index(cur, 24, 128)


def _rebuild_samples_index(cur: psycopg.Cursor, m: int, ef_construction: int) -> None:
    """The samples' HNSW index dropped and built again with these parameters, with enough memory
    for the graph (pgvector builds in memory, in parallel, when it fits)."""
    cur.execute(f"""
        SET LOCAL maintenance_work_mem = '1GB';
        DROP INDEX facegate.samples_hnsw;
        CREATE INDEX samples_hnsw ON facegate.samples USING hnsw (descriptor vector_l2_ops)
            WITH (m = {int(m)}, ef_construction = {int(ef_construction)});
    """)


def _door_withdraw(cur: psycopg.Cursor) -> None:
    """A door may take back what it proposed and an admin has not approved yet (an undone learned
    or clicked sample, a wrong photo), nothing else: ``door_withdraw`` deletes only samples of
    the calling door still ``proposed``, and a person that door proposed who is left with none;
    it refuses (SQLSTATE 42501, naming the sample) the whole call when any sample is another
    door's or approved, which only an admin may remove. Ids the site does not have (withdrawn
    or rejected already, or never pushed) are skipped, so a retried push changes nothing.

    The samples are locked before they are judged: an admin approving the same proposal at the
    same moment either commits first (the withdrawal is refused: the sample is the site's now)
    or waits and then finds nothing to approve. A proposal left with no sample is recorded as
    decided 'withdrawn' (by the door), so it leaves ``facegate site proposals``."""
    cur.execute(f"""
        ALTER TABLE facegate.proposals DROP CONSTRAINT proposals_decision_check;
        ALTER TABLE facegate.proposals ADD CONSTRAINT proposals_decision_check
            CHECK (decision IN ('approved', 'rejected', 'withdrawn'));
        CREATE FUNCTION facegate.door_withdraw(p_samples uuid[]) RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = facegate, public, pg_temp AS $$
        DECLARE
            door facegate.doors;
            s record;
            people uuid[];
            props bigint[];
            gone integer;
        BEGIN
            SELECT * INTO door FROM facegate.doors WHERE role = session_user;
            IF door.id IS NULL THEN
                RAISE EXCEPTION 'only a door of this site may withdraw its proposals' USING ERRCODE = '42501';
            END IF;
            FOR s IN SELECT id, status, door_id FROM facegate.samples WHERE id = ANY(p_samples) ORDER BY id FOR UPDATE LOOP
                IF s.door_id IS DISTINCT FROM door.id THEN
                    RAISE EXCEPTION 'sample % was not proposed by this door: only the site''s admin can remove it', s.id
                        USING ERRCODE = '42501';
                END IF;
                IF s.status <> 'proposed' THEN
                    RAISE EXCEPTION 'sample % was approved by an admin: only the site''s admin can remove it now', s.id
                        USING ERRCODE = '42501';
                END IF;
            END LOOP;
            WITH d AS (DELETE FROM facegate.samples WHERE id = ANY(p_samples) RETURNING person_id, proposal)
                SELECT array_agg(DISTINCT person_id), array_agg(DISTINCT proposal), count(*) INTO people, props, gone FROM d;
            IF gone = 0 THEN RETURN 0; END IF;
            DELETE FROM facegate.people p WHERE p.id = ANY(people) AND p.status = 'proposed' AND p.enrolled_by = door.id
                AND NOT EXISTS (SELECT 1 FROM facegate.samples x WHERE x.person_id = p.id);
            UPDATE facegate.proposals pr SET decided = now(), decision = 'withdrawn', decided_by = 'door ' || door.name
                WHERE pr.id = ANY(props) AND pr.decided IS NULL
                  AND NOT EXISTS (SELECT 1 FROM facegate.samples x WHERE x.proposal = pr.id);
            RETURN gone;
        END $$;
        REVOKE ALL ON FUNCTION facegate.door_withdraw(uuid[]) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION facegate.door_withdraw(uuid[]) TO {DOOR_ROLE};
    """)


#: door_enroll's lines that added a push to the door's open proposal of that person...
_JOINED_PUSH = """            SELECT id INTO prop FROM facegate.proposals WHERE door_id = door.id AND person_id = p_person AND decided IS NULL;
            IF prop IS NULL THEN
                INSERT INTO facegate.proposals(door_id, person_id, name, new_person)
                    VALUES (door.id, p_person, final_name, outcome = 'created') RETURNING id INTO prop;
            END IF;
"""
#: ...and what they are now: every push is a proposal of its own
_OWN_PUSH = """            INSERT INTO facegate.proposals(door_id, person_id, name, new_person)
                VALUES (door.id, p_person, final_name, outcome = 'created') RETURNING id INTO prop;
"""


def _proposal_per_push(cur: psycopg.Cursor) -> None:
    """Each push of a door is a proposal of its own, never added to one already open: an admin
    approves exactly the samples listed when they looked (``facegate site proposals``), not faces
    the door, or whoever holds its login, pushed for the same person since. ``door_enroll``'s body
    is the one ``_proposals`` made, with the lines that joined an open proposal replaced (a body
    that is not that one stops the migration rather than be half changed)."""
    signature = "facegate.door_enroll(uuid, text, boolean, uuid[], real[], bytea[], text[], real[], timestamptz[], text[], text)"
    row = cur.execute(f"SELECT pg_get_functiondef('{signature}'::regprocedure)").fetchone()
    body = row[0] if row else ""
    if body.count(_JOINED_PUSH) != 1:
        raise RuntimeError("facegate.door_enroll is not the function this migration knows: not changed")
    cur.execute("DROP INDEX facegate.proposals_open")  # a door may have several open proposals of one person
    cur.execute(body.replace(_JOINED_PUSH, _OWN_PUSH))


def _samples_index_256(cur: psycopg.Cursor) -> None:
    """The samples' HNSW index rebuilt with ef_construction=256 (m=24 as before): over 1,000,000
    samples, site-wide top-10 at ef_search 200 (core.site.search) measured recall@10 0.97 in
    9.5 ms, where ef_construction=128 gave 0.91 in 7.6-9.4 ms and needed ef_search 400 (15-19
    ms) for 0.95: a graph built with more care is cheaper to search than a longer walk of a
    rougher one (bench/site_bench.py, docs/sites.md). The build takes about twice as long (21
    min for 1M samples on 2 cores, against 11), once; an existing site's upgrade rebuilds it in
    this migration's transaction, enrollments waiting meanwhile."""
    _rebuild_samples_index(cur, 24, 256)


def _site_epoch(cur: psycopg.Cursor) -> None:
    """The site's epoch: a random id that ``site restore`` replaces. A door keeps the epoch it
    last synced with; when the site's differs, the site's history was rewound under it (a
    restore from a backup older than the door's copy), its change log's numbers start again
    below the door's cursor, and the door re-reads the whole site instead of pulling past its
    cursor (core.site.sync ``hello``). Doors read it with the other site settings."""
    cur.execute("INSERT INTO facegate.site_settings VALUES ('epoch', gen_random_uuid()::text) ON CONFLICT DO NOTHING")


MIGRATIONS: list[tuple[str, Callable[[psycopg.Cursor], None]]] = [
    ("tables", _tables),
    ("change-log", _change_log),
    ("roles", _roles),
    ("snapshot-privacy", _snapshot_privacy),
    ("door-functions", _door_functions),
    ("proposals", _proposals),
    ("timeline", _timeline),
    ("person-card", _person_card),
    ("personal-threshold", _personal_threshold),
    ("access-chain", _access_chain),
    ("visitor-passes", _visitor_passes),
    ("anti-passback", _anti_passback),
    ("access-modes", _access_modes),
    ("events-inbox", _events_inbox),
    ("samples-index", _samples_index),
    ("door-withdraw", _door_withdraw),
    ("proposal-per-push", _proposal_per_push),
    ("samples-index-256", _samples_index_256),
    ("site-epoch", _site_epoch),
]


def migrate(conn: psycopg.Connection) -> list[str]:
    """Bring the central schema up to date (needs a superuser, or the owner with CREATEROLE);
    the names of the migrations run now."""
    ran = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("CREATE SCHEMA IF NOT EXISTS facegate")
        conn.execute("CREATE TABLE IF NOT EXISTS facegate.meta (key text PRIMARY KEY, value text NOT NULL)")
        done = {r[0] for r in conn.execute("SELECT key FROM facegate.meta WHERE key LIKE 'migration:%'")}
        for name, step in MIGRATIONS:
            if f"migration:{name}" in done:
                continue
            with conn.cursor() as cur:
                step(cur)
                cur.execute("INSERT INTO facegate.meta VALUES (%s, now()::text)", (f"migration:{name}",))
            ran.append(name)
        conn.execute("REVOKE ALL ON facegate.meta FROM PUBLIC")
    return ran


def version(conn: psycopg.Connection) -> int:
    """How many migrations this site's schema has (0: not a FaceGate site)."""
    (exists,) = conn.execute("SELECT to_regclass('facegate.meta') IS NOT NULL").fetchone() or (False,)
    if not exists:
        return 0
    (count,) = conn.execute("SELECT count(*) FROM facegate.meta WHERE key LIKE 'migration:%'").fetchone() or (0,)
    return count
