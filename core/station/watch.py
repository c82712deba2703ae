"""One "the gallery changed" for the whole station, driven by the store's gallery generation
(core.gallery.schema: people, samples and "not this person" marks move it, whoever writes them:
a page, the decider's learning mode, the site's sync, another tool).

Every view of the gallery subscribes here instead of being told by hand by each page that
writes: the live loop re-reads its index first, then the listeners run. poll() is cheap (one
meta row) and runs on the caller's thread: the window calls it from a timer and right after its
own writes, replay never needs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.gallery.store import Store

log = logging.getLogger("facegate.station")


class GalleryWatch:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.seen = store.gallery_generation()
        self.listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        self.listeners.append(listener)

    def poll(self) -> bool:
        """Tell every listener, once, if the gallery moved since the last poll; True if it did."""
        generation = self.store.gallery_generation()
        if generation == self.seen:
            return False
        self.seen = generation
        for listener in list(self.listeners):
            try:
                listener()
            except Exception:  # one broken view must not keep the others (or the live loop) stale
                log.exception("a gallery-changed listener failed")
        return True
