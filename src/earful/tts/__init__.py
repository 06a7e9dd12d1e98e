"""Text to speech and voice cloning: Piper voices, XTTS-v2, and an offline cloning engine."""
