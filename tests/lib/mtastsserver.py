"""mtastsserver.py: a local HTTPS server for MTA-STS policies in tests.

    srv = mtastsserver.Server("127.0.0.20", (certfile, keyfile),
                              {"mta-sts.a.test": "version: STSv1\\n..."}).start()
    srv.port            the port (TERN_MTASTS_PORT)
    srv.requests        [(host, path), ...] in order
    srv.policies[...]   change what a name serves; a value (status, type, body)
                        serves that instead of 200 text/plain
    srv.stop()          the server goes away (connections then refused)

make_cert(d, names, ca) makes one certificate for several names, signed by
ca=(cacert, cakey) from sink.make_ca."""
import http.server
import os
import ssl
import subprocess
import threading


def make_cert(d, names, ca, tag="multi"):
    cert, key, csr, ext = (os.path.join(d, tag + x) for x in (".pem", ".key", ".csr", ".ext"))
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n" % ",".join("DNS:" + n for n in names))
    run = lambda a: subprocess.run(["openssl"] + a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", csr, "-subj", "/CN=" + names[0]])
    run(["x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
         "-out", cert, "-days", "30", "-extfile", ext])
    return cert, key


class Server:
    def __init__(self, host, tls, policies):
        self.policies = dict(policies)
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = (self.headers.get("Host") or "").split(":")[0].lower()
                outer.requests.append((name, self.path))
                p = outer.policies.get(name)
                if p is None or self.path != "/.well-known/mta-sts.txt":
                    status, ctype, body = 404, "text/plain", "not found\n"
                elif isinstance(p, tuple):
                    status, ctype, body = p
                else:
                    status, ctype, body = 200, "text/plain", p
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]

    def start(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
