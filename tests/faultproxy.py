"""A TCP proxy in front of a server that can fail the way networks and servers fail.

    with FaultProxy(("127.0.0.1", 5432)) as proxy:   # listens on a free loopback port
        ...  # connect to 127.0.0.1:proxy.port
        proxy.freeze()   # connections stay open and take bytes, but nothing comes back
        proxy.refuse()   # open connections are reset and new ones refused, as a server down
        proxy.resume()   # traffic passes again (for connections made from now on)

Bytes that arrive while frozen are dropped, so a connection used during a freeze is garbage
afterwards; a client is expected to give up on it, as it would on a real network.
"""

import contextlib
import socket
import struct
import threading

PASS, FREEZE, REFUSE = "pass", "freeze", "refuse"


def _reset(sock: socket.socket) -> None:
    """Close at once, as a server that is gone: the peer and our own pump see the end."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv(); close() would not
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class FaultProxy:
    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.mode = PASS
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.acceptor = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self.acceptor.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.acceptor.join()
        self.listener.close()
        self._reset_all()

    def freeze(self):
        self.mode = FREEZE

    def refuse(self):
        self.mode = REFUSE
        self._reset_all()

    def resume(self):
        self.mode = PASS

    def restart(self):
        """Drop every open connection and go on accepting, as a database that restarted."""
        self.mode = PASS
        self._reset_all()

    def _reset_all(self):
        with self.lock:
            sockets, self.sockets = self.sockets, set()
        for sock in sockets:
            _reset(sock)

    def _accept(self):
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            if self.mode == REFUSE:
                _reset(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            for sock in (client, server):
                sock.settimeout(None)
            with self.lock:
                self.sockets.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket):
        try:
            while data := source.recv(65536):
                if self.mode == PASS:
                    target.sendall(data)
                # Frozen: the bytes are taken and go nowhere.
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with self.lock:
                    self.sockets.discard(sock)
                _reset(sock)
