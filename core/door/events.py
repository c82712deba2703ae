"""Events out: every door decision, as it is written to the access log, also goes to MQTT (with
Home Assistant discovery, core.door.mqtt) and as JSON to a webhook. Both optional.

    >>> events = EventPublisher(EventSettings(   # core.door.event_settingsmqtt_host="127.0.0.1", webhook_url="http://ha.local/hook"))
    >>> decider.on_logged.append(events.publish)      # after each access-log write
    >>> door.add_listener(events.door_changed)        # the lock's state (locked / open)
    >>> events.status()                               # [OutboxStatus('mqtt', 'ok', 0 queued, ...), ...]

The door never waits for them: publish() builds the payload and queues it (core.door.outbox);
each output delivers from its own bounded queue on its own thread, retries while its receiver is
down or slow, and reports how it goes. An event is published only after the access log has it,
so an outage loses at most notifications (the oldest, once the queue is full), never a record.
Delivery is at least once: after a broken connection an event may arrive twice; ``event_id``
tells duplicates apart.

The payload (JSON; the MQTT ``decision`` topic and the webhook's POST body)::

    {"event_id": 42, "time": "2026-03-01T08:00:00.123+00:00", "door": "Front door",
     "type": "granted", "verdict": "Granted", "person": "Ada", "person_id": 3, "visitor": null,
     "reason": "3 of the last 5 identifications agree, ...", "distance": 0.31, "margin": 0.12,
     "door_answer": "unlocking", "track": 5, "has_snapshot": true}

``type`` is one of TYPES: granted, denied (not allowed, or outside their schedule), unknown
(nobody enrolled is this face; ``visitor`` is the id of the unknown visitor it was grouped
into, core.door.visitors), unsure (no clear answer, or no liveness shown), door_error (the lock
failed), manual_unlock, duress (a silent alarm: the person's duress PIN was taken; it follows
that grant's own ``granted`` event, or comes first when the door was in its cooldown),
panel_granted / panel_denied (an OSDP panel's answer), view_changed (the camera's empty view is
not its room: covered or moved; core.vision.room) (core.door.event_settings.TYPES). The
webhook body also has ``snapshot_jpeg``: the face snapshot as base64 JPEG (when it has one and
``send_snapshots`` is on).
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from core.door.access_log import AccessEvent
from core.door.event_settings import TYPES, EventSettings, slug
from core.door.outbox import Outbox, OutboxStatus

if TYPE_CHECKING:
    from core.door.base import DoorStatus

log = logging.getLogger("facegate.events")


def payload(event: AccessEvent, door_name: str) -> dict[str, Any]:
    """The documented JSON object for one access-log event (see the module docstring)."""
    return {
        "event_id": event.id,
        "time": event.time,
        "door": door_name,
        "type": TYPES.get(event.verdict, slug(event.verdict)),
        "verdict": event.verdict,
        "person": event.name,
        "person_id": event.person_id,
        "visitor": event.visitor_id,
        "reason": event.reason,
        "distance": event.distance,
        "margin": event.margin,
        "door_answer": event.door,
        "track": event.track,
        "has_snapshot": event.snapshot is not None,
    }


class EventPublisher:
    """Sends each access-log event to the configured outputs without ever making the caller wait."""

    def __init__(self, settings: EventSettings) -> None:
        settings.check()
        self.settings = settings
        self.outboxes: list[Outbox] = []
        self._mqtt = None
        if settings.mqtt_host:
            from core.door.mqtt import MqttSink  # paho is imported only when MQTT is on

            self._mqtt = MqttSink(settings)
            self.outboxes.append(Outbox("mqtt", self._mqtt.send, settings.queue_size))
        if settings.webhook_url:
            self.outboxes.append(Outbox("webhook", self._post, settings.queue_size))

    @property
    def enabled(self) -> bool:
        return bool(self.outboxes)

    def publish(self, event: AccessEvent) -> None:
        """Queue the event for every output; returns at once (called on the access-log writer thread)."""
        if not self.outboxes:
            return
        body = payload(event, self.settings.door_name)
        for box in self.outboxes:
            if box.name == "mqtt" and self._mqtt is not None:
                box.put(self._mqtt.messages(body, event.snapshot if self.settings.send_snapshots else None))
            else:
                box.put(
                    body
                    if event.snapshot is None or not self.settings.send_snapshots
                    else {**body, "snapshot_jpeg": base64.b64encode(event.snapshot).decode("ascii")}
                )

    def door_changed(self, status: DoorStatus) -> None:
        """A door listener (core.door.base.DoorStatus): the lock's state for Home Assistant."""
        if self._mqtt is not None and status.state in ("open", "locked"):
            self.outboxes[0].put(self._mqtt.lock_state(status.state == "open"))

    def status(self) -> list[OutboxStatus]:
        return [box.status() for box in self.outboxes]

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every output has delivered its queue (True) or ``timeout`` s have passed."""
        return all(box.flush(timeout) for box in self.outboxes)

    def close(self, timeout: float = 2.0) -> None:
        """Deliver what can be delivered in ``timeout`` s, then stop the threads and disconnect."""
        for box in self.outboxes:
            box.close(timeout)
        if self._mqtt is not None:
            self._mqtt.close()

    def _post(self, body: dict) -> None:
        request = urllib.request.Request(
            self.settings.webhook_url,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "FaceGate"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.settings.webhook_timeout) as answer:
                answer.read()
        except urllib.error.HTTPError as exc:
            raise OSError(f"webhook answered {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise OSError(f"webhook {self.settings.webhook_url}: {getattr(exc, 'reason', exc)}") from None
