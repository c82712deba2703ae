"""`facegate events`: where the door's decisions go out (MQTT with Home Assistant discovery, a
webhook), set in the gallery like the Door page does, and a test event to check them.

    facegate events                                           # show the settings
    facegate events --mqtt-host 127.0.0.1 --mqtt-port 1883    # publish to this broker
    facegate events --webhook http://ha.local:8123/api/webhook/facegate
    facegate events --mqtt-off --webhook-off                  # stop sending
    facegate events --test                                    # send a test event now, say if it arrived
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, replace
from typing import TYPE_CHECKING

from core.cli.common import open_gallery, say
from core.door.access_log import AccessEvent
from core.door.event_settings import EventSettings
from core.door.events import EventPublisher
from core.door.verdict import Verdict
from core.errors import FaceGateError

if TYPE_CHECKING:
    from core.door.outbox import OutboxStatus

COMMANDS = ("events",)
#: command-line option -> EventSettings field
OPTIONS = {
    "door_name": "door_name",
    "mqtt_host": "mqtt_host",
    "mqtt_port": "mqtt_port",
    "mqtt_user": "mqtt_username",
    "mqtt_password": "mqtt_password",
    "mqtt_topic": "mqtt_topic",
    "webhook": "webhook_url",
}


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("events", parents=[common], help="show or set where door decisions go out (MQTT, webhook)")
    p.add_argument("--door-name", default=None, help='the Home Assistant device name (default "Front door")')
    p.add_argument("--mqtt-host", default=None, help="MQTT broker host (sending starts)")
    p.add_argument("--mqtt-port", type=int, default=None)
    p.add_argument("--mqtt-user", default=None)
    p.add_argument("--mqtt-password", default=None)
    p.add_argument("--mqtt-topic", default=None, help="base topic (default facegate/<door name>)")
    p.add_argument(
        "--discovery",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="announce the door to Home Assistant (MQTT discovery; on by default)",
    )
    p.add_argument("--mqtt-off", action="store_true", help="stop publishing to MQTT")
    p.add_argument("--webhook", default=None, help="POST each decision as JSON to this URL")
    p.add_argument("--webhook-off", action="store_true", help="stop calling the webhook")
    p.add_argument("--test", action="store_true", help="send a test event (a manual unlock, not logged) and report")
    p.add_argument("--wait", type=float, default=10.0, help="seconds --test waits for delivery (default 10)")


def run(args: argparse.Namespace) -> int:
    changes = {field: getattr(args, option) for option, field in OPTIONS.items() if getattr(args, option) is not None}
    if args.discovery is not None:
        changes["mqtt_discovery"] = args.discovery
    if args.mqtt_off:
        changes["mqtt_host"] = ""
    if args.webhook_off:
        changes["webhook_url"] = ""
    with open_gallery(args, write=bool(changes)) as g:
        settings, problem = EventSettings.load_or_default(g.store)
        if changes:
            settings = replace(settings, **changes)
            try:
                settings.save(g.store)
            except ValueError as exc:
                raise FaceGateError(f"events not changed: {exc}") from None
    shown = {**asdict(settings), "mqtt_password": "***" if settings.mqtt_password else ""}
    out: dict = {"settings": shown, "problem": problem}
    lines = [
        f"MQTT: {f'{settings.mqtt_host}:{settings.mqtt_port}, topic {settings.base_topic}' if settings.mqtt_host else 'off'}",
        f"webhook: {settings.webhook_url or 'off'}",
    ] + ([problem] if problem else [])
    if args.test:
        statuses = _test(settings, args.wait)
        out["test"] = [{"output": s.name, "state": s.state, "sent": s.sent, "error": s.error} for s in statuses]
        lines += [f"test: {s}" for s in statuses] or ["test: nothing to send to (no broker, no webhook)"]
    say(args, out, "\n".join(lines))
    failed = args.test and any(s.sent == 0 for s in statuses)
    return 1 if failed else 0


def _test(settings: EventSettings, wait: float) -> list[OutboxStatus]:
    """Send one event to every output and wait up to ``wait`` s for it to be delivered."""
    publisher = EventPublisher(settings)
    try:
        publisher.publish(AccessEvent(Verdict.MANUAL_UNLOCK, reason="facegate events --test: a test event, the door did nothing"))
        publisher.flush(wait)
        return publisher.status()
    finally:
        publisher.close(timeout=0.5)
