"""The Jupyter Server extension: application, handlers."""
