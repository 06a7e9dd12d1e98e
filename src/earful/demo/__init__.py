"""The Gradio demo: a thin client of the earful HTTP API."""
