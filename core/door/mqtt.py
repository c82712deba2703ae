"""Door events over MQTT (paho-mqtt), announced to Home Assistant by MQTT discovery.

Topics, under the base topic B (EventSettings.base_topic, default ``facegate/<door>``):

=====================  =========================================================  ========
topic                  payload                                                    retained
=====================  =========================================================  ========
B/availability         ``online`` / ``offline`` (the broker says offline when      yes
                       FaceGate vanishes: MQTT last will)
B/decision             every decision, the JSON of core.door.events               no
B/event                ``{"event_type": <type>, ...the same JSON}``: HA event     no
B/unknown              the same for unknown visitors only (event_type unknown)    no
B/last_person          the last decision's person, ``Unknown visitor`` or ``-``   yes
B/last_person/attrs    the last decision's JSON (the sensor's attributes)         yes
B/lock                 ``ON`` while the door is unlocked, ``OFF`` when locked     yes
B/snapshot             the last decision's face, JPEG bytes                       yes
=====================  =========================================================  ========

Discovery (``<prefix>/<component>/<node>/<object>/config``, retained, sent at every connect)
makes one Home Assistant device with a binary sensor (device class lock: on = unlocked; a
sensor, not a lock entity, because Home Assistant must never be a way to open this door), a
"Last person" sensor, two event entities (Decision, Unknown visitor) and an image entity (Snapshot).

All network work happens on the caller's thread (the events outbox's): connect, publish with
QoS 1 and wait for the broker's acknowledgement. Any failure drops the connection (and paho's
own copies of unsent messages), so the outbox's retry is the only one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt

from core.door.event_settings import EVENT_TYPES, EventSettings

if TYPE_CHECKING:
    from paho.mqtt.properties import Properties
    from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger("facegate.events")

Message = tuple[str, Any, bool]  # topic, payload, retain


class MqttSink:
    """One broker connection, made and remade on demand by send()."""

    def __init__(self, settings: EventSettings, timeout: float = 5.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self.base = settings.base_topic
        self._client: mqtt.Client | None = None
        self._connected = threading.Event()
        self._answered = threading.Event()  # the broker's CONNACK came, good or not
        self._refused: str | None = None

    # -- what to send ----------------------------------------------------------------------------
    def messages(self, body: dict[str, Any], snapshot: bytes | None) -> list[Message]:
        """The messages of one decision (see the table above)."""
        b = self.base
        text = json.dumps(body)
        person = body["person"] or ("Unknown visitor" if body["type"] == "unknown" else "-")
        out: list[Message] = [
            (f"{b}/decision", text, False),
            (f"{b}/event", json.dumps({"event_type": body["type"], **body}), False),
        ]
        if body["type"] == "unknown":
            out.append((f"{b}/unknown", json.dumps({"event_type": "unknown", **body}), False))
        if body["type"] not in (
            "door_error",
            "manual_unlock",
            "duress",
            "view_changed",
        ):  # a duress alarm leaves the last person as granted
            out += [(f"{b}/last_person/attrs", text, True), (f"{b}/last_person", person, True)]
        if snapshot is not None:
            out.append((f"{b}/snapshot", snapshot, True))
        return out

    def lock_state(self, unlocked: bool) -> list[Message]:
        return [(f"{self.base}/lock", "ON" if unlocked else "OFF", True)]

    def discovery(self) -> list[Message]:
        """Home Assistant's discovery configs for this door's entities."""
        s, b, node = self.settings, self.base, self.settings.node_id
        device = {
            "identifiers": [node],
            "name": f"FaceGate {s.door_name}",
            "manufacturer": "FaceGate",
            "model": "face-recognition door",
        }
        common = {"availability_topic": f"{b}/availability", "device": device}
        entities: dict[tuple[str, str], dict[str, Any]] = {
            ("binary_sensor", "lock"): {
                "name": "Lock",
                "device_class": "lock",
                "state_topic": f"{b}/lock",
                "payload_on": "ON",
                "payload_off": "OFF",
            },
            ("sensor", "last_person"): {
                "name": "Last person",
                "icon": "mdi:account",
                "state_topic": f"{b}/last_person",
                "json_attributes_topic": f"{b}/last_person/attrs",
            },
            ("event", "decision"): {"name": "Decision", "state_topic": f"{b}/event", "event_types": EVENT_TYPES},
            ("event", "unknown_visitor"): {"name": "Unknown visitor", "state_topic": f"{b}/unknown", "event_types": ["unknown"]},
            ("image", "snapshot"): {"name": "Snapshot", "image_topic": f"{b}/snapshot", "content_type": "image/jpeg"},
        }
        return [
            (
                f"{s.discovery_prefix}/{component}/{node}/{obj}/config",
                json.dumps({**config, **common, "unique_id": f"{node}_{obj}", "object_id": f"{node}_{obj}"}),
                True,
            )
            for (component, obj), config in entities.items()
        ]

    # -- sending ---------------------------------------------------------------------------------
    def send(self, messages: list[Message]) -> None:
        """Publish the messages and wait for the broker to have them; OSError says why not."""
        try:
            client = self._connect()
            self._publish(client, messages)
        except Exception:
            self._drop()
            raise

    def _publish(self, client: mqtt.Client, messages: list[Message]) -> None:
        infos = [client.publish(topic, data, qos=1, retain=retain) for topic, data, retain in messages]
        for info in infos:
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                raise OSError(f"MQTT broker {self._where()}: {mqtt.error_string(info.rc)}")
            info.wait_for_publish(self.timeout)
            if not info.is_published():
                raise OSError(f"MQTT broker {self._where()} did not acknowledge within {self.timeout:g} s")

    def _connect(self) -> mqtt.Client:
        if self._client is not None and self._client.is_connected():
            return self._client
        self._drop()
        s = self.settings
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{s.node_id}-{os.getpid()}", reconnect_on_failure=False)
        if s.mqtt_username:
            client.username_pw_set(s.mqtt_username, s.mqtt_password or None)
        client.will_set(f"{self.base}/availability", "offline", qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = lambda *_args: self._connected.clear()
        self._connected.clear()
        self._answered.clear()
        self._refused = None
        self._client = client
        try:
            client.connect(s.mqtt_host, s.mqtt_port, keepalive=30)
        except OSError as exc:
            raise OSError(f"MQTT broker {self._where()}: {exc.strerror or exc}") from None
        client.loop_start()
        if not self._answered.wait(self.timeout):
            raise OSError(f"MQTT broker {self._where()} did not answer within {self.timeout:g} s")
        if self._refused:
            raise OSError(self._refused)
        announce = self.discovery() if s.mqtt_discovery else []
        self._publish(client, [*announce, (f"{self.base}/availability", "online", True)])
        log.info("MQTT: connected to %s as %s", self._where(), s.node_id)
        return client

    def _on_connect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self._refused = f"MQTT broker {self._where()} refused the connection: {reason_code}"
        else:
            self._connected.set()
        self._answered.set()

    def _where(self) -> str:
        return f"{self.settings.mqtt_host}:{self.settings.mqtt_port}"

    def _drop(self) -> None:
        client, self._client = self._client, None
        self._connected.clear()
        if client is not None:
            try:
                client.disconnect()
            finally:
                client.loop_stop()

    def close(self) -> None:
        """Say 'offline' (a clean disconnect sends no last will) and disconnect."""
        client = self._client
        if client is not None and client.is_connected():
            with contextlib.suppress(OSError):  # the broker went away first: its last will says offline
                self._publish(client, [(f"{self.base}/availability", "offline", True)])
        self._drop()
