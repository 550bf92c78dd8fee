"""Notebook rules for people who may run but not edit, shared by the kernel hook and saves.

- :mod:`.cells`: which code may run (the saved cells of a notebook, and new literal
  values of its ``parameters`` cell);
- :mod:`.merge`: a contributor's save, merged onto the stored notebook by cell id.

Pure: no I/O and no Jupyter imports, like the policy core.
"""
