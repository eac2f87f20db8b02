"""The tests' port picker: a collector's ports must differ from each other and from every earlier one."""

from __future__ import annotations

import socket

from tests.support.ports import free_port


def test_free_port_never_repeats_in_one_process() -> None:
    # 3,000 picks: a kernel that hands probed ports out again repeats one among them for sure
    # (birthday bound over the ~28k ephemeral ports), which is how two of a collector's ports once matched
    ports = [free_port() for _ in range(3000)]
    assert len(set(ports)) == len(ports)


def test_a_free_port_can_be_listened_on() -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        assert listener.getsockname()[1] == port
