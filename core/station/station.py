"""The door station: the one place that assembles a door from a gallery and its stored settings.

    station = Station(gallery)                 # the window, --kiosk, the self-test, the service
    station = Station.for_replay(gallery, w)   # `facegate replay`: a simulated door, nothing sent

It holds the live loop (core.live) with the stored detector, smallest face and quality gates;
the door decision (core.door) with every gate (liveness and schedule inside the decider, the
site's offline policy added here, always, so no caller can forget it); the door output; the
events out (MQTT, webhook); the site's sync when the gallery has a site (on an admin PC, with
the site's purge of expired visitor passes); the health monitor when the app is supervised; and
one GalleryWatch ("the gallery changed") that the live loop and every view follow. The window
only shows what it holds and forwards clicks: building the pages in another order cannot drop a
gate, and `facegate replay` decides with the very same settings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.door import start_door
from core.door.access_log import AccessEvent
from core.door.base import Door, DoorStatus
from core.door.decide import DoorDecider
from core.door.events import EventPublisher
from core.door.osdp import OsdpReader, PanelAnswer
from core.door.verdict import Verdict
from core.errors import FaceGateError
from core.gallery.api import Gallery
from core.live.loop import LiveRecognizer, LiveSettings
from core.service import heartbeat
from core.service.monitor import Limits, Monitor, Surroundings
from core.site.config import SiteConfig, site_of
from core.site.gate import OfflineGate, ShutGate
from core.site.passback import SitePassback
from core.site.sync import SiteSync, SyncReport
from core.station.pass_expiry import PassExpiry
from core.station.settings import StationSettings, damaged_door_settings
from core.station.watch import GalleryWatch
from core.station.wiring import attach_decider, simulated_door

log = logging.getLogger("facegate.station")


class Station:
    """``door``: an output already started (default: the stored driver, started); ``outputs``
    False: no events out and no site sync (a replay); ``dry_run``: decisions kept in memory,
    nothing written to the gallery; ``live``: the loop's defaults under the stored settings."""

    def __init__(
        self,
        gallery: Gallery,
        *,
        door: Door | None = None,
        descriptor_worker: Any = None,
        dry_run: bool = False,
        outputs: bool = True,
        live: LiveSettings | None = None,
    ) -> None:
        self.gallery = gallery
        self.settings, self.problems = StationSettings.load(gallery.store)
        self.recognizer = LiveRecognizer(gallery, self.settings.live(live), descriptor_worker=descriptor_worker)
        if door is None:
            door, problem = start_door(self.settings.door)
            if problem:
                self.problems.append(problem)
        self.door: Door = door
        self.decider: DoorDecider = attach_decider(
            self.recognizer, door, self.settings.decision, dry_run=dry_run, inline_texture=not outputs
        )  # a replay scores in step
        self.offline = OfflineGate(gallery.store, self.settings.site)
        self.decider.gates.append(self.offline)
        damaged = damaged_door_settings(gallery.store)
        self._damaged: ShutGate | None = None if damaged is None else ShutGate(damaged)  # until saved again (apply)
        if self._damaged is not None:
            self.problems.append(f"the door stays shut: {damaged}")
            self.decider.gates.append(self._damaged)
        self.events: EventPublisher | None = EventPublisher(self.settings.events) if outputs else None
        self.decider.on_logged.append(self._publish)
        self.decider.on_logged.append(self._alarm_panel)
        self._follow(door)
        self.on_door: list[Callable[[Door], None]] = []  # a new door output replaced the old one
        self.on_site_change: list[Callable[[SyncReport], None]] = []  # from the sync thread
        self.site_config: SiteConfig | None = None
        self.site: SiteSync | None = None
        self.passback: SitePassback | None = None
        self._open_site(sync=outputs)
        self.watch = GalleryWatch(gallery.store)
        self.watch.subscribe(self.recognizer.refresh)  # first: the views then show what the loop sees
        self.monitor: Monitor | None = None
        self._closed = False

    @classmethod
    def for_replay(cls, gallery: Gallery, descriptor_worker: Any, log: bool = False, live: LiveSettings | None = None) -> Station:
        """A station for `facegate replay`: the stored settings and gates, a simulated door with
        the stored pulse and cooldown, no events out, no sync; read-only unless ``log``."""
        door_settings = StationSettings.load(gallery.store)[0].door
        return cls(
            gallery,
            door=simulated_door(door_settings),
            descriptor_worker=descriptor_worker,
            dry_run=not log,
            outputs=False,
            live=live,
        )

    def _open_site(self, sync: bool) -> None:
        """The site's sync (``sync``: not for a replay); a site file that is missing, damaged or
        readable by others shuts the door (fail secure: it would miss the site's revocations)."""
        try:
            self.site_config = site_of(self.gallery.store)
        except FaceGateError as exc:
            self.problems.append(str(exc))
            self.decider.gates.append(ShutGate(str(exc)))
            return
        if sync and self.site_config is not None:
            expiry = PassExpiry(self.gallery, self.site_config) if self.site_config.admin_login is not None else None
            self.site = SiteSync(
                self.gallery, self.site_config, self.settings.site, on_change=self._site_changed, after_round=expiry
            )
            self.passback = SitePassback(self.gallery.store, self.site_config, self.settings.site)
            self.decider.passage = self.passback

    # -- running -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Start what runs on its own threads (the site's sync)."""
        if self.site is not None:
            self.site.start()

    def supervise(self, probe: Callable[[], Surroundings], limits: Limits | None = None, period: float | None = None) -> Monitor:
        """The health monitor over this station's loop and gallery (core.service.monitor); ``probe``
        reports what only the app around it knows (its capture thread, the mode)."""
        self.monitor = Monitor(
            heartbeat.heartbeat_path(Path(self.gallery.store.path)),
            self.recognizer,
            self.gallery,
            probe,
            limits=limits,
            period=period,
        )
        self.decider.on_logged.append(self.monitor.decision)
        return self.monitor

    def door_status(self) -> DoorStatus:
        return self.door.status()

    # -- settings ----------------------------------------------------------------------------------
    def apply(self, settings: StationSettings) -> list[str]:
        """Save ``settings`` (every group checked first: on ValueError or FaceGateError nothing is
        saved or changed) and run on them: the live loop, the decision, the gates, the events and
        the door output (restarted when its settings changed or it is failing). Returns problems
        to show (a door that could not start is replaced by a simulated one, never left open)."""
        settings.save(self.gallery.store)
        old, self.settings = self.settings, settings
        if self._damaged is not None:  # every group is whole again
            self.decider.gates.remove(self._damaged)
            self._damaged = None
        problems: list[str] = []
        if (settings.recognition, settings.quality) != (old.recognition, old.quality):
            r = settings.recognition
            self.recognizer.update_settings(
                method=r.method, min_face=r.min_face, threshold=r.threshold, quality=settings.quality.gates()
            )
        self.decider.settings = settings.decision
        self.offline.settings = settings.site
        if self.site is not None:
            self.site.settings = settings.site
        if self.passback is not None:
            self.passback.settings = settings.site
        if self.events is not None and settings.events != old.events:
            old_events, self.events = self.events, EventPublisher(settings.events)
            old_events.close(timeout=0.5)
        if settings.door != old.door or self.door.status().error:
            door, problem = start_door(settings.door)
            self._follow(door)
            old_door, self.door = self.door, door
            self.decider.set_door(door)
            for listener in list(self.on_door):
                listener(door)
            old_door.close()
            if problem:
                problems.append(problem)
        return problems

    def _follow(self, door: Door) -> None:
        door.add_listener(self._door_changed)
        if isinstance(door, OsdpReader):
            door.answer_listeners.append(self._panel_answered)

    # -- what the threads call -----------------------------------------------------------------------
    def _publish(self, event: AccessEvent) -> None:  # the decider's writer thread; the publisher may be replaced meanwhile
        if self.events is not None:
            self.events.publish(event)

    def _alarm_panel(self, event: AccessEvent) -> None:  # the decider's writer thread
        """A duress grant raises the silent alarm at the access panel too, when the door output
        is its reader: the card read already went as for any grant (core.door.osdp.alarm)."""
        door = self.door
        if event.verdict == Verdict.DURESS and isinstance(door, OsdpReader):
            door.alarm(event.reason)

    def _door_changed(self, status: DoorStatus) -> None:
        if self.events is not None:
            self.events.door_changed(status)

    def _panel_answered(self, answer: PanelAnswer) -> None:  # libosdp's thread
        """The access panel's own decision on a card read FaceGate sent: logged beside FaceGate's
        grant, so the log shows when the panel refused someone the face let through (a schedule,
        anti-passback, a card the panel does not know)."""
        verdict = Verdict.PANEL_GRANTED if answer.answer == "granted" else Verdict.PANEL_DENIED
        reason = f"the access panel {answer.answer} card {answer.card} {answer.seconds * 1000:.0f} ms after FaceGate's grant"
        self.decider.writer.put(AccessEvent(verdict, answer.holder.name, answer.holder.person_id, reason, door="osdp"))

    def _site_changed(self, report: SyncReport) -> None:
        for listener in list(self.on_site_change):
            listener(report)

    # -- closing -----------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop everything it started, the door locked last but one (the loop's process last); safe twice."""
        if self._closed:
            return
        self._closed = True
        if self.site is not None:
            self.site.stop()
        self.decider.close()
        if self.passback is not None:
            self.passback.close()
        self.door.close()
        if self.events is not None:
            self.events.close(timeout=1.0)
        self.recognizer.close()
