"""Who is enrolled, and who a descriptor belongs to: the SQLite store and its schema, the hnswlib
index beside it (its files written durably: core.gallery.files), matching, the Gallery verbs
(core.gallery.api), settings kept in the gallery, backups and the admin PIN.

The store is the truth; the index is a cache rebuilt from it whenever it is stale or damaged.
"""
