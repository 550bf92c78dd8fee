"""Real-time collaboration (jupyter-collaboration) that keeps every role.

- :mod:`.rooms`: what a room id names, and a user's rights there now;
- :mod:`.updates`: what one Yjs update changes, tried on a shadow document first;
- :mod:`.awareness`: who says what about whom, filtered per recipient;
- :mod:`.handler`: the room websocket installed in place of jupyter_server_ydoc's.

Nothing here imports jupyter-collaboration at import time but :mod:`.handler`,
which the extension loads only when it is installed.
"""
