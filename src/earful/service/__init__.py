"""The FastAPI speech service."""
