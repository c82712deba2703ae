"""FaceGate as an unattended service: it tells the service manager it is ready and alive
(notify: sd_notify over $NOTIFY_SOCKET), writes a heartbeat that `facegate status` reads
(heartbeat), watches that its frame loop, descriptor worker and window are alive (monitor),
records in the access log how the previous run ended (lifecycle), keeps the screen awake
(awake), and writes the systemd user unit that starts it at login and restarts it (unit).

It sits above core.live and core.door (it watches both and writes to the access log) and
below core.cli.
"""
