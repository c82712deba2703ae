"""Who is enrolled, and who a descriptor belongs to: the SQLite store and its schema, the hnswlib
index beside it, matching, the Gallery verbs (core.gallery.api), backups and the admin PIN.

The store is the truth; the index is a cache rebuilt from it whenever it is stale or damaged.
"""
