"""Work on collections of photos and videos: search, scan, evaluate (with plots), folder enrollment."""
