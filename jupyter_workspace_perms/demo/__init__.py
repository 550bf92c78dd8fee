"""The demo: a sample world on SQLite in a temporary folder, one login link per persona."""
