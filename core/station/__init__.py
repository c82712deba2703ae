"""One door station (core.station.station.Station): a video source's frames through the live loop
(core.live) and the door decision (core.door) with every gate, the door output, the events out,
the site's sync and the health monitor, built from the gallery's stored settings the same way for
the window, the kiosk, the self-test, the service and ``facegate replay``. It is the only layer
above both live and door, which must not know each other."""

from core.station.settings import StationSettings
from core.station.station import Station

__all__ = ["Station", "StationSettings"]
