#!/usr/bin/env python3
"""A JSON-RPC 2.0 client for the volley callbacks example, with Python's standard library only.

    python3 examples/callbacks/clients/python_client.py ws://127.0.0.1:8080/ws

Calls add with [1, 2] and with {"a": 1, "b": 2}, calls ask, answers the server's confirm
request with yes, prints the results, and exits 0 when they are right. The server sends the
params of its own calls (confirm, tick) by position: ["the question"], [n].
"""
import base64
import hashlib
import json
import os
import socket
import struct
import sys
from urllib.parse import urlsplit

TIMEOUT = 10  # seconds, for the connect and for every read
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3


def unmask(mask, payload):
    """XORs payload with the 4-byte mask (masking and unmasking are the same operation)."""
    return bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class WebSocket:
    """A client WebSocket (RFC 6455): handshake, masked frames out, unmasked frames in."""

    def __init__(self, url):
        parts = urlsplit(url)
        if parts.scheme != "ws":
            raise ValueError(f"only ws:// URLs are supported, not {url}")
        self.sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=TIMEOUT)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv_some()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status, *lines = head.decode("latin-1").split("\r\n")
        if status.split()[1:2] != ["101"]:
            raise ConnectionError(f"handshake refused: {status}")
        headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines)}
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != accept:
            raise ConnectionError("handshake: wrong Sec-WebSocket-Accept")

    def _recv_some(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        return data

    def _read(self, n):
        while len(self.buf) < n:
            self.buf += self._recv_some()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _send_frame(self, opcode, payload):
        n = len(payload)
        if n < 126:
            length = struct.pack("!B", 0x80 | n)
        elif n < 1 << 16:
            length = struct.pack("!BH", 0x80 | 126, n)
        else:
            length = struct.pack("!BQ", 0x80 | 127, n)
        mask = os.urandom(4)
        self.sock.sendall(struct.pack("!B", 0x80 | opcode) + length + mask + unmask(mask, payload))

    def send(self, message):
        self._send_frame(0x1, json.dumps(message).encode())

    def recv(self):
        """The next JSON message; answers pings and joins fragmented messages."""
        data = b""
        while True:
            b0, b1 = self._read(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self._read(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self._read(8))
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = unmask(mask, payload)
            if opcode == 0x8:
                raise ConnectionError("the server closed the connection")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
            elif opcode in (0x0, 0x1, 0x2):
                data += payload
                if b0 & 0x80:
                    return json.loads(data)

    def close(self):
        """Sends a close frame (1000) and waits for the server's close or end of stream."""
        self._send_frame(0x8, struct.pack("!H", 1000))
        try:
            while True:
                self.recv()
        except ConnectionError:
            pass
        self.sock.close()


def call(ws, request_id, method, params):
    """Calls method and returns its result, serving the server's requests meanwhile."""
    ws.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
    while True:
        message = ws.recv()
        if message.get("method") == "tick":
            # The server sends its calls' params by position (Browser is positional).
            print(f"tick {message['params'][0]}")
        elif message.get("method") == "confirm" and "id" in message:
            print(f"server asks: {message['params'][0]} -> answering yes")
            ws.send({"jsonrpc": "2.0", "id": message["id"], "result": True})
        elif "method" in message and "id" in message:
            error = {"code": -32601, "message": "Method not found"}
            ws.send({"jsonrpc": "2.0", "id": message["id"], "error": error})
        elif message.get("id") == request_id and "method" not in message:
            if "error" in message:
                raise RuntimeError(f"{method} failed: {json.dumps(message['error'])}")
            return message["result"]


def main():
    url = sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:8080/ws"
    ws = WebSocket(url)
    by_position = call(ws, 1, "add", [1, 2])
    print(f"add([1, 2]) = {json.dumps(by_position)}")
    by_name = call(ws, 2, "add", {"a": 1, "b": 2})
    print(f'add({{"a": 1, "b": 2}}) = {json.dumps(by_name)}')
    question = "is this Python?"
    confirmed = call(ws, 3, "ask", {"question": question})
    print(f"ask({json.dumps(question)}) = {json.dumps(confirmed)}")
    ws.close()
    ok = by_position == 3 and by_name == 3 and confirmed is True
    print("ok" if ok else "FAILED: unexpected results")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError, RuntimeError, KeyError, IndexError, TypeError) as e:
        print(f"error: {e!r}", file=sys.stderr)
        sys.exit(1)
