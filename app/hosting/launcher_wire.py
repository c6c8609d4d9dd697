"""The launcher's wire: length-prefixed pickles over a private Unix socket, with file descriptors.

Both ends are processes of the same user: the socket lives in a 0700 directory and the launcher
checks each peer's user (:func:`same_user`) before it reads a byte.
"""

from __future__ import annotations

import os
import pickle
import socket
import struct
import sys
from typing import Any

_HEAD = struct.Struct("!Q")
_MAX_MESSAGE = 1 << 31


class LauncherError(RuntimeError):
    """The launcher could not be reached or refused a job."""


def say(text: str) -> None:
    try:
        sys.stderr.write(f"[job launcher {os.getpid()}] {text}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def send_message(sock: socket.socket, obj: Any, fds: list[int] | None = None) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    head = _HEAD.pack(len(data))
    if fds:
        socket.send_fds(sock, [head], fds)
    else:
        sock.sendall(head)
    sock.sendall(data)


def recv_exact(sock: socket.socket, n: int, buf: bytes = b"") -> bytes:
    parts = [buf]
    have = len(buf)
    while have < n:
        chunk = sock.recv(min(n - have, 1 << 20))
        if not chunk:
            raise EOFError("the peer closed the connection")
        parts.append(chunk)
        have += len(chunk)
    return b"".join(parts)


def recv_message(sock: socket.socket, max_fds: int = 0) -> tuple[Any, list[int]]:
    fds: list[int] = []
    if max_fds:
        first, fds, _flags, _addr = socket.recv_fds(sock, _HEAD.size, max_fds)
        if not first:
            raise EOFError("the peer closed the connection")
    else:
        first = b""
    try:
        (size,) = _HEAD.unpack(recv_exact(sock, _HEAD.size, first))
        if size > _MAX_MESSAGE:
            raise ValueError(f"message of {size} bytes")
        return pickle.loads(recv_exact(sock, size)), fds
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise


def same_user(conn: socket.socket) -> bool:
    so_peercred = getattr(socket, "SO_PEERCRED", None)
    if so_peercred is None:
        return True  # no such check here: the socket's 0700 directory still keeps other users out
    creds = conn.getsockopt(socket.SOL_SOCKET, so_peercred, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()
