"""A webhook receiver to try the app's events: it checks each signature with the
`standardwebhooks` library and prints the event.

    WEBHOOK_SECRET=whsec_... .venv/bin/python examples/webhook_receiver.py 8090

Register http://127.0.0.1:8090/ on Quản trị → Webhook (make run allows local addresses),
then issue minutes. `standardwebhooks` is installed by `make test` (requirements-dev.txt).
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

verifier = Webhook(os.environ["WEBHOOK_SECRET"])


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            event = verifier.verify(body, dict(self.headers.items()))
        except WebhookVerificationError as exc:
            print(f"REFUSED {self.headers.get('webhook-id')}: {exc}", flush=True)
            self.send_response(401)
        else:
            print(f"verified {self.headers['webhook-id']} {event['type']}", flush=True)
            print(json.dumps(event["data"], ensure_ascii=False, indent=2), flush=True)
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8090
    print(f"listening on http://127.0.0.1:{port}/", flush=True)
    HTTPServer(("127.0.0.1", port), Handler).serve_forever()
