"""The operator CLI, ``jupyter workspace-perms``."""
