"""popfrom.py: a poplib client that connects from a chosen loopback source
address, for the POP-before-SMTP tests (the relay record is per address)."""
import poplib
import socket


class POP3From(poplib.POP3):
    """poplib.POP3 connecting from a chosen source address."""
    def __init__(self, src, host, port, timeout=20):
        self.src = src
        poplib.POP3.__init__(self, host, port, timeout=timeout)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(self.src, 0))
