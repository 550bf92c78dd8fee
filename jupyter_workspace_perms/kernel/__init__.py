"""What happens between a kernel websocket and its kernel, for people who may not edit.

- :mod:`.cells`: which code may run (the saved cells of the session's notebook,
  and new literal values of its ``parameters`` cell);
- :mod:`.judge`: the verdict on each websocket message, and what to answer when
  one is refused (pure, table-driven);
- :mod:`.notebooks`: the notebooks of a kernel's sessions, indexed and cached;
- :mod:`.frames`: the websocket frames of both protocols, parsed and packed;
- :mod:`.connection`: the kernel websocket hook that applies the verdicts, binds
  session ids to users and closes sockets when access is withdrawn;
- :mod:`.merge`: the contributor save, merged onto the stored notebook by cell id;
- :mod:`.audit`: the record of every execution request, allowed or refused.
"""
