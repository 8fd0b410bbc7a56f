"""Nagle's algorithm off on the server's TCP sockets: Streamlit 1.67's server answers 40 ms late.

Streamlit 1.67 binds its listening socket itself, as ``socket.socket(family)``: protocol 0. asyncio
turns Nagle's algorithm off (TCP_NODELAY) only on connections whose protocol is IPPROTO_TCP, so on
Streamlit's it stays on. A response written in two parts (headers, then body) then waits for the
browser's delayed ACK before its body leaves: measured, a small static file on a kept-alive
connection takes 44 ms instead of 3, and a first visit fetches ~130 of them, six at a time
(``python -m lstm_viz.bench.first_paint``); small websocket messages written back to back wait
the same way.

Linux clones an accepted connection from its listening socket, TCP_NODELAY included: setting it on
the listening socket once covers every later connection. The connections already open get it too.
Only this process's own sockets are touched, through duplicates of their descriptors
(``/proc/self/fd``); elsewhere than on Linux this does nothing.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

_FDS = Path("/proc/self/fd")


def tcp_sockets() -> list[int]:
    """The file descriptors of this process that are sockets (Linux; [] elsewhere)."""
    try:
        names = os.listdir(_FDS)
    except OSError:
        return []
    out = []
    for name in names:
        try:
            if os.readlink(_FDS / name).startswith("socket:"):
                out.append(int(name))
        except (OSError, ValueError):       # closed meanwhile
            continue
    return out


def set_nodelay() -> int:
    """Set TCP_NODELAY on every TCP socket of this process (listening or connected); return how
    many were set. Never raises: a socket that cannot be set is left as it is."""
    done = 0
    for fd in tcp_sockets():
        try:
            s = socket.socket(fileno=os.dup(fd))      # a duplicate: closing it leaves fd open
        except OSError:
            continue
        try:
            if s.family in (socket.AF_INET, socket.AF_INET6) and s.type == socket.SOCK_STREAM:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                done += 1
        except OSError:
            pass
        finally:
            s.close()
    return done
