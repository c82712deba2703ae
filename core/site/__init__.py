"""Many doors, one gallery: the site in PostgreSQL + pgvector, and each door's offline copy.

- schema: the central tables, roles (admin, door) and their privileges, as migrations
- config: where the site is and this door's login (a 0600 file), the offline policy
- local: the door's site ids, outbox and cursor in its own SQLite gallery
- sync: push the outbox, pull the changes (one local transaction per batch), the sync thread
- gate: the offline policy, as a check the DoorDecider runs before any grant
- admin: site init / join / leave, and the admin's verbs (people, groups, doors, duplicates)
- verbs: the admin's verbs as words, for the command line and the Site page
- search: site-wide search over pgvector's HNSW indexes
- inbox: doors' events moved into the indexed table, behind their fast push (admin PCs)

core.site sits beside core.door and core.tools, above core.gallery: it writes the door's
tables (access_events, schedules, negatives) directly as rows, never through core.door, which
knows nothing of sites (the offline gate is handed to the DoorDecider by whoever builds both).
"""
