"""Small HTTP servers on loopback that stand in for an OpenAI-compatible one, for tests that
need a server to answer in ways a real one doesn't (nonsense, errors, hostile text)."""

import http.server
import threading


class ListsOneModel(http.server.BaseHTTPRequestHandler):
    """Answers /v1/models with one model, anything else it is asked for with 404; a subclass
    says what a completion gets (do_POST)."""

    def do_GET(self):
        self.send_response(200 if self.path == "/v1/models" else 404)
        self.end_headers()
        if self.path == "/v1/models":
            self.wfile.write(b'{"data": [{"id": "m", "owned_by": "someone"}]}')

    def log_message(self, *args):
        pass


def serve(handler) -> tuple[http.server.ThreadingHTTPServer, str]:
    """The handler served on a free loopback port, in a thread: (the server, its /v1 URL)."""
    front = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=front.serve_forever, daemon=True).start()
    return front, f"http://127.0.0.1:{front.server_address[1]}/v1"
