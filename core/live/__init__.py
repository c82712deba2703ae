"""The frame loop at the door: a source gives frames, faces are detected and tracked, new or
unsure faces are described by a worker process, and each track gets a name (core.live.loop).
"""
