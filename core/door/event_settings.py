"""Where door events go out (EventSettings, stored in the gallery) and the event types: shared by
core.door.events (the publisher) and core.door.mqtt (the broker and Home Assistant)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from core.door.verdict import Verdict
from core.gallery.stored_settings import StoredSettings

#: verdict in the access log -> the event's ``type``
TYPES: dict[str, str] = {
    Verdict.GRANTED: "granted",
    Verdict.DENIED: "denied",
    Verdict.DENIED_SCHEDULE: "denied",
    Verdict.UNKNOWN: "unknown",
    Verdict.UNSURE: "unsure",
    Verdict.NO_LIVENESS: "unsure",
    Verdict.DOOR_ERROR: "door_error",
    Verdict.MANUAL_UNLOCK: "manual_unlock",
    Verdict.WRONG_PIN: "denied",
    Verdict.WRONG_CARD: "denied",
    Verdict.NO_PIN: "denied",
    Verdict.NO_CARD: "denied",
    Verdict.LOCKED_OUT: "denied",
    Verdict.DURESS: "duress",
    Verdict.PANEL_GRANTED: "panel_granted",
    Verdict.PANEL_DENIED: "panel_denied",
    Verdict.VIEW_CHANGED: "view_changed",
}
EVENT_TYPES = sorted(set(TYPES.values()))


@dataclass
class EventSettings(StoredSettings):
    """Where decisions go out; stored in the gallery (key "events"). Empty host / URL: off."""

    KEY: ClassVar[str] = "events"

    door_name: str = "Front door"  # the Home Assistant device's name; its ids are made from it
    mqtt_host: str = ""
    mqtt_port: int = 1883
    mqtt_username: str = ""
    mqtt_password: str = ""
    mqtt_topic: str = ""  # base topic; empty: facegate/<door name as an id>
    mqtt_discovery: bool = True  # announce the entities to Home Assistant
    discovery_prefix: str = "homeassistant"
    webhook_url: str = ""
    webhook_timeout: float = 5.0  # s for one POST before it counts as failed and is retried
    send_snapshots: bool = True  # the face snapshot: MQTT image topic, base64 in the webhook body
    queue_size: int = 200  # events kept per output while it is down

    def check(self) -> None:
        if not slug(self.door_name):
            raise ValueError("the door name needs at least one letter or digit")
        if self.mqtt_host and not 0 < self.mqtt_port < 65536:
            raise ValueError(f"MQTT port {self.mqtt_port} must be between 1 and 65535")
        if any(c in self.mqtt_topic for c in "#+") or self.mqtt_topic.endswith("/"):
            raise ValueError(f"MQTT topic {self.mqtt_topic!r} cannot hold # or + or end in /")
        if self.webhook_url and not self.webhook_url.startswith(("http://", "https://")):
            raise ValueError(f"webhook URL {self.webhook_url!r} must start with http:// or https://")
        if self.webhook_timeout <= 0:
            raise ValueError("the webhook timeout must be above 0 s")
        if self.queue_size < 1:
            raise ValueError("the event queue needs room for at least one event")

    @property
    def node_id(self) -> str:
        return "facegate_" + slug(self.door_name)

    @property
    def base_topic(self) -> str:
        return self.mqtt_topic or f"facegate/{slug(self.door_name)}"


def slug(text: str) -> str:
    """An id made of the text's letters and digits: 'Front door' -> 'front_door'."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
