"""One door station: a video source's frames through the live loop (core.live) and the door
decision (core.door), wired the same way for the window (gui.door_pages) and for ``facegate
replay``. It sits above live and door, which must not know each other."""
