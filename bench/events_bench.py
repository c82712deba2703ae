"""Time from a door decision to its MQTT message (prints figures; never a timed test).

    .venv/bin/python bench/events_bench.py [--runs 5] [--events 50]

A real DoorDecider over a fresh gallery, its EventPublisher on a real mosquitto started on a free
loopback port (tests/support/receivers.py): each decision (DoorDecider.note, as for a door error
or a manual unlock) is timed from the call to its arrival at a subscriber on ``<base>/decision``.
That covers the access-log write (SQLite commit with fsync, on the decider's writer thread), the
hand-over to the MQTT outbox thread, the QoS 1 publish and the broker's delivery. Decisions are
made 50 ms apart (a door makes a few a minute); per run the median and the 95th percentile, then
the median of the runs' medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def one_run(count: int) -> tuple[float, float]:
    from core.door.decide import DoorDecider
    from core.door.event_settings import EventSettings
    from core.door.events import EventPublisher
    from core.door.verdict import Verdict
    from core.gallery.api import Gallery
    from tests.support.receivers import Broker, Subscriber

    with tempfile.TemporaryDirectory() as folder, Broker(Path(folder)) as broker:
        gallery = Gallery(Path(folder) / "gallery.db")
        decider = DoorDecider(gallery, None)
        events = EventPublisher(EventSettings(mqtt_host="127.0.0.1", mqtt_port=broker.port))
        decider.on_logged.append(events.publish)
        subscriber = Subscriber(broker.port, "facegate/front_door/decision")
        try:
            decider.note(Verdict.MANUAL_UNLOCK, "warm-up: connect")
            assert subscriber.wait_for(lambda: len(subscriber.messages) == 1, 20), events.status()
            made = []
            for i in range(count):
                made.append(time.monotonic())
                decider.note(Verdict.MANUAL_UNLOCK, f"decision {i}")
                time.sleep(0.05)
            assert subscriber.wait_for(lambda: len(subscriber.messages) == count + 1, 30), events.status()
            arrived = [m[3] for m in subscriber.messages[1:]]
            ms = sorted((a - m) * 1000 for a, m in zip(arrived, made, strict=True))
            return statistics.median(ms), ms[int(0.95 * (len(ms) - 1))]
        finally:
            subscriber.close()
            decider.close()
            events.close()
            gallery.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--events", type=int, default=50)
    args = parser.parse_args()
    medians = []
    for run in range(args.runs):
        median, p95 = one_run(args.events)
        medians.append(median)
        print(f"run {run + 1}: decision -> MQTT message median {median:.1f} ms, p95 {p95:.1f} ms ({args.events} decisions)")
    print(f"median of {args.runs} runs: {statistics.median(medians):.1f} ms (runs {min(medians):.1f}-{max(medians):.1f})")


if __name__ == "__main__":
    main()
