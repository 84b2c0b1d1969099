"""Frames written straight to a websocket's socket, when the server allows it.

A room of thousands of phones gets the same text thousands of times a second (a tally,
an acknowledgement each). Going through the ASGI ``send`` costs a coroutine, the
framework's state checks and the frame's encoding per phone and message; a broadcast's
frame can instead be encoded once (:func:`text_frame`) and written to every socket as
it is (:class:`RawSocket`), as the ``websockets`` library's own ``broadcast`` does.

This needs uvicorn's ``websockets-sansio`` protocol (what ``minka serve`` runs): the ASGI
``send`` a websocket is given is that protocol's bound method, and the protocol holds
the transport and the sans-I/O connection whose state says whether the socket is open.
Data frames from the server carry no state of their own (no mask, no fragmentation
here, no compression: ``minka serve`` turns permessage-deflate off), so writing one
directly leaves the protocol's own bookkeeping right. With any other server, or when the
connection negotiated an extension, :func:`raw_socket` gives ``None`` and the ordinary
``send`` is used.
"""

from __future__ import annotations

from websockets.frames import Frame, Opcode
from websockets.protocol import State

__all__ = ["RAW_SEND", "RawSocket", "raw_socket", "text_frame"]

# Where the outermost middleware keeps a websocket's ``send`` as the server gave it
# (the middleware further in wrap it).
RAW_SEND = "minka.raw_send"


def text_frame(text: str) -> bytes:
    """A whole, unmasked text frame (what a server sends)."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


class RawSocket:
    """Writes ready frames to one websocket's transport, or says it cannot (now)."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol) -> None:
        self._protocol = protocol

    def write(self, frame: bytes) -> bool:
        """Write ``frame`` now; False (nothing written) when the socket is closing or its
        buffer is full (the caller keeps the text for its ordinary, awaited ``send``)."""
        p = self._protocol
        if p.close_sent or p.conn.state is not State.OPEN or not p.writable.is_set():
            return False
        transport = p.transport
        if transport.is_closing():
            return False
        transport.write(frame)
        return True


def raw_socket(scope) -> RawSocket | None:
    """The raw writer of an accepted websocket (by its ASGI scope), if the server allows one."""
    protocol = getattr(scope.get(RAW_SEND), "__self__", None)
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    except ImportError:  # pragma: no cover - uvicorn without websockets
        return None
    if not isinstance(protocol, WebSocketsSansIOProtocol):
        return None
    if getattr(protocol.conn, "extensions", None):  # compressed frames need the protocol's own encoder
        return None
    # The handshake is over: its request and response (headers, ~3 KiB) are not read
    # again by the protocol once the connection is accepted.
    if getattr(protocol, "handshake_complete", False):
        protocol.request = protocol.response = None
    return RawSocket(protocol)
