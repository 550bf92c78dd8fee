"""Kernel websocket frames as the hook reads them, and the parts it packs again.

Both protocols a client may speak: the v1 binary subprotocol
(``v1.kernel.websocket.jupyter.org``, JupyterLab's) and the legacy JSON one. Anything
that cannot be judged raises :class:`Malformed`, and the hook drops it.

Every message a client sends passes here, on the server's event loop, so the JSON is
read and written with the standard library's C scanner and encoder made once, not
once per call as ``json.loads`` and ``json.dumps`` with options do; the results are
the same (``tests/test_kernel_hook_filter.py`` compares them).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from typing import Any

from jupyter_client.jsonutil import json_default
from jupyter_client.session import Session, json_packer
from jupyter_server.services.kernels.connection.base import deserialize_binary_message

_DECODER = json.JSONDecoder()
# what ``_DECODER.decode`` calls once it has skipped whitespace
_scan_json: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def _json_encoder() -> Callable[[Any], str]:
    """``json.dumps(obj, default=json_default, ensure_ascii=False, allow_nan=False)`` as
    jupyter_client's packer calls it, with the C encoder made once rather than per call.

    Without a cycle check: what it packs was parsed from JSON, which has no cycles.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator
        return json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=json_default).encode
    # markers (no cycle check), default, string encoder, indent, separators, sort_keys,
    # skipkeys, allow_nan: as JSONEncoder.iterencode passes them for jupyter_client's call
    chunks = make(
        None, json_default, json.encoder.encode_basestring, None, ": ", ", ", False, False, False
    )
    return lambda obj: "".join(chunks(obj, 0))


_encode_json = _json_encoder()


class Malformed(ValueError):
    """A websocket message that cannot be judged: it is dropped."""


def json_object(raw: bytes | str, what: str) -> dict[str, Any]:
    """A JSON object, as ``json.loads`` reads it (UTF-8 bytes)."""
    try:
        text = raw.decode("utf-8", "surrogatepass") if isinstance(raw, bytes) else raw
        try:
            value, end = _scan_json(text, 0)
        except StopIteration:
            end = -1
        if end != len(text):  # leading or trailing whitespace, or an error to report
            value = _DECODER.decode(text)
    except (ValueError, RecursionError) as e:
        raise Malformed(f"{what} is not JSON") from e
    if not isinstance(value, dict):
        raise Malformed(f"{what} is not an object")
    return value


def one_reading(raw: bytes, key: bytes) -> bool:
    """Whether every JSON parser reads the same value for ``key`` (quoted) in ``raw``.

    ``raw`` is a part our parser read as an object. Without a backslash no key is
    spelled with escapes, and a quote inside a string needs one: so every
    occurrence of ``"key"`` is that key, and at most one means no duplicate.
    """
    return b"\\" not in raw and raw.count(key) <= 1


def split_v1(data: bytes) -> tuple[str, list[bytes]]:
    """(channel, [header, parent, metadata, content, *buffers]) of a v1 message.

    Checks every offset first: a forged count must not make the server allocate.
    """
    if not isinstance(data, bytes) or len(data) < 8:
        raise Malformed("a v1 message is binary, with at least its part count")
    count = int.from_bytes(data[:8], "little")
    if count < 6 or 8 * (count + 1) > len(data):
        raise Malformed("bad v1 offsets")
    offsets = struct.unpack_from(f"<{count}Q", data, 8)
    if offsets[0] != 8 * (count + 1) or list(offsets) != sorted(offsets) or offsets[-1] > len(data):
        raise Malformed("bad v1 offsets")
    try:
        channel = data[offsets[0] : offsets[1]].decode("utf-8")
    except UnicodeDecodeError as e:
        raise Malformed("bad channel name") from e
    return channel, [data[offsets[i] : offsets[i + 1]] for i in range(1, count - 1)]


def parse_legacy(data: bytes | str) -> dict[str, Any]:
    """A legacy-protocol message (JSON text, or JSON plus binary buffers) with its parts."""
    if isinstance(data, bytes):
        if len(data) < 8:
            raise Malformed("short binary message")
        count = struct.unpack("!i", data[:4])[0]
        if count < 1 or 4 * (count + 1) > len(data):
            raise Malformed("bad binary offsets")
        try:
            found = deserialize_binary_message(data)  # type: ignore[no-untyped-call]
        except (ValueError, TypeError, KeyError, struct.error, RecursionError) as e:
            raise Malformed("bad binary message") from e
        if not isinstance(found, dict):
            raise Malformed("a message is an object")
        msg: dict[str, Any] = found
    else:
        msg = json_object(data, "the message")
    for part in ("header", "parent_header", "metadata", "content"):
        if not isinstance(msg.get(part), dict):
            raise Malformed(f"the message's {part} is missing or not an object")
    return msg


class Incoming:
    """One parsed client message; content and metadata are parsed only when needed."""

    __slots__ = ("_parsed", "channel", "header", "msg", "parts")

    def __init__(
        self,
        channel: str,
        header: dict[str, Any],
        parts: list[bytes] | None = None,  # v1: the raw parts
        msg: dict[str, Any] | None = None,  # legacy: the whole message
    ) -> None:
        self.channel = channel
        self.header = header
        self.parts = parts
        self.msg = msg
        self._parsed: list[dict[str, Any] | None] = [None, None]  # metadata, content

    @property
    def msg_type(self) -> str:
        value = self.header.get("msg_type")
        if not isinstance(value, str):
            raise Malformed("the header has no msg_type")
        return value

    def parent_header(self) -> dict[str, Any]:
        """The message's parent header (parsed when asked: only stdin replies need it)."""
        if self.msg is not None:
            value: dict[str, Any] = self.msg["parent_header"]
            return value
        assert self.parts is not None
        return json_object(self.parts[1], "the parent header")

    def part(self, index: int, name: str) -> dict[str, Any]:
        """The message's ``metadata`` (2) or ``content`` (3), parsed once."""
        if self.msg is not None:
            value: dict[str, Any] = self.msg[name]
            return value
        parsed = self._parsed[index - 2]
        if parsed is None:
            assert self.parts is not None
            parsed = self._parsed[index - 2] = json_object(
                self.parts[index], f"the message's {name}"
            )
        return parsed

    @classmethod
    def parse(cls, data: bytes | str, v1: bool) -> Incoming:
        """Parse a websocket frame of the connection's protocol."""
        if v1:
            if not isinstance(data, bytes):
                raise Malformed("a v1 message is binary")
            channel, parts = split_v1(data)
            if len(parts) < 4:
                raise Malformed("a v1 message has at least four parts")
            return cls(channel, json_object(parts[0], "the header"), parts)
        msg = parse_legacy(data)
        channel = msg.pop("channel", None) or "shell"
        if not isinstance(channel, str):
            raise Malformed("bad channel")
        return cls(channel, msg["header"], None, msg)


def packer_for(session: Session) -> Callable[[Any], bytes]:
    """The session's packer; jupyter_client's JSON packer without its per-call encoder."""
    pack: Callable[[Any], bytes] = session.pack
    if pack is not json_packer:
        return pack

    def pack_json(obj: Any) -> bytes:
        try:
            return _encode_json(obj).encode("utf8", errors="surrogateescape")
        except (TypeError, ValueError, RecursionError):
            return pack(obj)  # its own fallback, or its own error

    return pack_json


class Outgoing:
    """One message from the kernel, read only as far as the hook needs (its header, and
    the content of the few types it follows: stdin requests, widget comms)."""

    __slots__ = ("header", "parts")

    def __init__(self, header: dict[str, Any], parts: list[Any]) -> None:
        self.header = header
        self.parts = parts

    @property
    def msg_type(self) -> str | None:
        value = self.header.get("msg_type")
        return value if isinstance(value, str) else None

    def content(self) -> dict[str, Any]:
        """The message's content (``Malformed`` when it is not a JSON object)."""
        return json_object(_bytes(self.parts[4]), "the content")

    @classmethod
    def read(cls, session: Session, msg_list: list[Any]) -> Outgoing | None:
        """The message the kernel sent (zmq frames with identities), or None if unreadable."""
        try:
            _identities, parts = session.feed_identities(msg_list)
            header = json_object(_bytes(parts[1]), "the header")
        except (ValueError, IndexError):  # Malformed is a ValueError
            return None
        return cls(header, parts) if len(parts) >= 5 else None


def _bytes(part: Any) -> bytes:
    """A zmq frame's bytes (frames come as bytes or as ``zmq.Frame``)."""
    return part if isinstance(part, bytes) else bytes(part.bytes)
