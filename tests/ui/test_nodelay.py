"""TCP_NODELAY on the server's sockets (``lstm_viz.ui.nodelay``): Streamlit 1.67 binds its
listening socket with protocol 0, so asyncio leaves Nagle's algorithm on its connections, and a
response's body waits ~40 ms for the browser's delayed ACK."""

from __future__ import annotations

import socket

from lstm_viz.ui.nodelay import set_nodelay, tcp_sockets


def nodelay(s: socket.socket) -> bool:
    return bool(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_the_listener_and_open_connections_get_it_and_new_connections_inherit_it():
    listener = socket.socket(family=socket.AF_INET)            # as Streamlit 1.67 binds it
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client = socket.create_connection(listener.getsockname())
    before, _ = listener.accept()
    local = socket.socketpair()                                 # not TCP: left alone
    try:
        assert listener.proto == 0 and not nodelay(listener) and not nodelay(before)
        assert set_nodelay() >= 3                               # listener, both ends
        assert nodelay(listener) and nodelay(before) and nodelay(client)
        later = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
        assert nodelay(accepted)                                # cloned from the listener
        later.close()
        accepted.close()
        assert local[0].fileno() in tcp_sockets()               # a socket, but not TCP
    finally:
        for s in (listener, client, before, *local):
            s.close()


def test_it_never_raises_and_counts_nothing_without_tcp_sockets(monkeypatch):
    monkeypatch.setattr("lstm_viz.ui.nodelay.tcp_sockets", lambda: [10**6])   # a closed fd
    assert set_nodelay() == 0
