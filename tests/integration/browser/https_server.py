#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A tiny HTTPS server for the browser tests: TLS 1.2 only, a client certificate issued by the
test authentication CA is required, and the page says who logged in.

    https_server.py --port P --cert SRV.pem --key SRV_KEY.pem --client-ca AUTH_CA.pem --log LOG
                    [--t0 EPOCH]

Every line of the log starts with the wall-clock time and the seconds since --t0 (an epoch
time, default: the server's start), e.g. "10:40:11.123 +12.345", so it lines up with the test's
own timestamps. Each TCP connection is logged when it is accepted ("accept <port>"), when its TLS
handshake completes ("handshake-ok <port> age=<s>"), fails ("handshake-error <port> age=<s>: ..."
- a browser that gives up closes the connection, seen here as an EOF) and when it ends
("close <port> age=<s>"), the age counted from its accept. Every request is logged as
    GET /path tls=TLSv1.2 cipher=... client="C=JP, CN=..." issuer="..." serial=... The page body carries the subject in an
element with id "who" and the words "logged in as", so a screenshot shows the result.
"""
import argparse
import html
import http.server
import ssl
import sys
import time


def name_str(rdns):
    return ", ".join(f"{k}={v}" for rdn in rdns for (k, v) in rdn)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # access log goes to our own log file instead
        pass

    def do_GET(self):
        conn = self.connection
        cert = conn.getpeercert()
        version = conn.version()
        cipher = conn.cipher()[0] if conn.cipher() else "?"
        subject = name_str(cert.get("subject", ())) if cert else ""
        issuer = name_str(cert.get("issuer", ())) if cert else ""
        serial = cert.get("serialNumber", "") if cert else ""
        self.server.log(f'{self.command} {self.path} tls={version} cipher={cipher} '
                        f'client="{subject}" issuer="{issuer}" serial={serial}')
        if self.path.startswith("/favicon"):
            body = b""
            self.send_response(404)
        else:
            who = html.escape(subject)
            body = (
                "<!DOCTYPE html><html><head><meta charset='utf-8'><title>JPKI login test</title>"
                "<style>body{font-family:sans-serif;font-size:28px;margin:40px;background:#eef8ee}"
                "#who{color:#060;font-weight:bold}</style></head><body>"
                "<h1>JPKI client certificate login</h1>"
                f"<p id='status'>logged in as <span id='who'>{who}</span></p>"
                f"<p>issuer: {html.escape(issuer)}<br>TLS: {html.escape(str(version))}, "
                f"{html.escape(cipher)}</p></body></html>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, ctx, logf, t0):
        self.ctx = ctx
        self.logf = logf
        self.t0 = t0
        self.accepted_at = {}  # client address -> time.monotonic() of its accept
        super().__init__(addr, Handler)

    def log(self, line):
        now = time.time()
        stamp = time.strftime('%H:%M:%S', time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
        self.logf.write(f"{stamp} +{now - self.t0:.3f} {line}\n")
        self.logf.flush()

    def process_request(self, request, client_address):
        # Called in the accepting thread right after accept(): the connection's start.
        self.accepted_at[client_address] = time.monotonic()
        self.log(f"accept {client_address[1]}")
        super().process_request(request, client_address)

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the request thread, so a browser waiting for the PIN does not
        # block other connections.
        port = client_address[1]
        start = self.accepted_at.pop(client_address, time.monotonic())

        def age():
            return f"age={time.monotonic() - start:.3f}"

        request.settimeout(120)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.log(f"handshake-error {port} {age()}: {e}")
            try:
                request.close()
            except OSError:
                pass
            return
        self.log(f"handshake-ok {port} {age()}")
        try:
            Handler(tls, client_address, self)
        except (ssl.SSLError, OSError) as e:
            self.log(f"connection-error {port} {age()}: {e}")
        finally:
            try:
                tls.close()
            except OSError:
                pass
            self.log(f"close {port} {age()}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--client-ca", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--t0", type=float, default=time.time(),
                    help="epoch time the log's relative seconds count from")
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # the card cannot sign RSA-PSS (TLS 1.3)
    ctx.load_cert_chain(a.cert, a.key)
    ctx.load_verify_locations(a.client_ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    logf = open(a.log, "a", buffering=1)
    srv = Server(("127.0.0.1", a.port), ctx, logf, a.t0)
    srv.log(f"listening on 127.0.0.1:{a.port} (TLS 1.2 only, client CA {a.client_ca})")
    print("ready", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
