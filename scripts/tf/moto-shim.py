"""Tiny reverse proxy in front of moto for the Terraform apply stretch check.

moto (5.2.x) does not implement Kinesis ListTagsForResource, which hashicorp/aws 6.x calls after
creating an aws_kinesis_stream_consumer (and retries on moto's HTTP 500 for minutes). The shim
answers that one call with "no tags" and forwards everything else to moto unchanged.
Usage: python3 moto-shim.py <listen-port> <moto-port>
"""
import http.server
import sys
import urllib.error
import urllib.request

LISTEN, MOTO = int(sys.argv[1]), int(sys.argv[2])


class Shim(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("X-Amz-Target") == "Kinesis_20131202.ListTagsForResource":
            return self._reply(200, {"Content-Type": "application/x-amz-json-1.1"}, b'{"Tags": []}')
        req = urllib.request.Request(f"http://127.0.0.1:{MOTO}{self.path}", data=body if body else None, method=self.command)
        for k, v in self.headers.items():
            if k.lower() not in ("host", "content-length", "connection"):
                req.add_header(k, v)
        try:
            with urllib.request.urlopen(req) as r:
                self._reply(r.status, dict(r.headers), r.read())
        except urllib.error.HTTPError as e:
            self._reply(e.code, dict(e.headers), e.read())

    def _reply(self, status, headers, payload):
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward


http.server.ThreadingHTTPServer(("127.0.0.1", LISTEN), Shim).serve_forever()
