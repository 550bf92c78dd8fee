"""Performance benchmarks of jupyter-workspace-perms (run as scripts, see README.md)."""
