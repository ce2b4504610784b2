#!/usr/bin/env python3
"""A nurse-station MQTT client built on paho-mqtt (an independent MQTT implementation).

Prints one line per received message: `TOPIC PAYLOAD` (like `mosquitto_sub -v`), flushing at once.
With --ack-kind it acknowledges the first alert of that kind it sees, as a person would.
It reconnects by itself and, with --persistent, keeps its session (clean_session=False) so the
broker queues QoS 1 messages while it is away.
"""
import argparse
import json
import ssl
import sys
import time

import paho.mqtt.client as mqtt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--topic", action="append", required=True)
    ap.add_argument("--client-id", default="nurse-station")
    ap.add_argument("--persistent", action="store_true")
    ap.add_argument("--ack-kind")
    ap.add_argument("--ack-by", default="Nurse Li")
    ap.add_argument("--site", default="demo-home")
    ap.add_argument("--cafile")
    args = ap.parse_args()

    acked = set()
    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=args.client_id,
        clean_session=not args.persistent,
    )
    if args.cafile:
        client.tls_set(ca_certs=args.cafile, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.reconnect_delay_set(min_delay=1, max_delay=2)

    def on_connect(c, _userdata, _flags, reason, _props):
        if reason.is_failure:
            return
        for t in args.topic:
            c.subscribe(t, qos=1)
        print("#connected", flush=True)

    def on_message(c, _userdata, msg):
        payload = msg.payload.decode("utf-8", errors="replace")
        print(f"{msg.topic} {payload}", flush=True)
        if not args.ack_kind or "/alerts/" not in msg.topic:
            return
        try:
            alert = json.loads(payload)
        except ValueError:
            return
        if alert.get("kind") == args.ack_kind and alert["id"] not in acked and alert.get("state") not in ("acknowledged", "resolved"):
            acked.add(alert["id"])
            body = json.dumps({"by": args.ack_by, "note": "on my way"})
            c.publish(f"pingan/{args.site}/cmd/alerts/{alert['id']}/ack", body, qos=1)
            print(f"#acked {alert['id']}", flush=True)

    client.on_connect = on_connect
    client.on_message = on_message
    while True:
        try:
            client.connect("127.0.0.1", args.port, keepalive=10)
            break
        except OSError:
            time.sleep(0.2)
    client.loop_forever(retry_first_connection=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
