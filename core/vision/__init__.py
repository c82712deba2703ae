"""Seeing faces in one picture: load an image, find the faces, describe them, judge liveness.

Nothing here knows about people or a gallery; it turns pixels into boxes, landmarks and 128-D
descriptors. Models are loaded on first use, never at import (core.vision.models checks they are
installed).
"""
