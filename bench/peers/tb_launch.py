#!/usr/bin/env python3
"""Starts ThingsBoard IoT Gateway for the side-by-side benchmark, fully offline.

Usage: tb_launch.py CONFIG_DIR   (the folder with tb_gateway.json; run from the run's folder)

The gateway checks for updates at a fixed internet address on start and every hour. That is
answered here by a stub on 127.0.0.1 instead ("no update available"), so nothing leaves the
machine; everything else is the gateway's own code, unchanged.
"""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer


class NoUpdate(BaseHTTPRequestHandler):
    """Answers every request like the update service when the version is current."""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        body = json.dumps({"updateAvailable": False, "message": ""}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *_):
        pass


def main() -> None:
    config_dir = os.path.abspath(sys.argv[1]) + os.sep
    stub = HTTPServer(("127.0.0.1", 0), NoUpdate)
    threading.Thread(target=stub.serve_forever, daemon=True).start()

    from thingsboard_gateway.tb_utility import tb_updater

    tb_updater.UPDATE_SERVICE_BASE_URL = f"http://127.0.0.1:{stub.server_address[1]}"
    os.makedirs("logs", exist_ok=True)
    from thingsboard_gateway.gateway.tb_gateway_service import TBGatewayService

    TBGatewayService(config_dir + "tb_gateway.json")


if __name__ == "__main__":
    main()
