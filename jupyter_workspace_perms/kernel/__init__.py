"""What happens between a kernel websocket and its kernel, for people who may not edit.

- :mod:`.judge`: the verdict on each websocket message, and what to answer when
  one is refused (pure, table-driven);
- :mod:`.widgets`: what a widget takes from people who may run but not edit (inputs
  only; pure);
- :mod:`.notebooks`: the notebooks of a kernel's sessions, indexed and cached, and
  what one connection last found of them;
- :mod:`.frames`: the websocket frames of both protocols, parsed and packed;
- :mod:`.connection`: the kernel websocket hook that applies the verdicts, binds
  session ids to users and closes sockets when access is withdrawn;
- :mod:`.audit`: the record of every execution request, allowed or refused.

Which code may run and what a save may change are notebook rules shared with the
save path: they live in :mod:`..notebook`.
"""
