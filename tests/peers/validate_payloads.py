#!/usr/bin/env python3
"""Validates Pingan MQTT payloads against docs/schema/ with an independent validator (Python
`jsonschema`, draft 2020-12).

Input (stdin), one message per line, as `mosquitto_sub -v` prints them:
    TOPIC PAYLOAD
or, for payloads that do not travel on a topic (the health report, a bare command body):
    @SCHEMA PAYLOAD        e.g.  @health-report {"v":1,...}

The schema is chosen by the topic (the table below mirrors docs/MQTT.md). Output: one JSON line
per input line, {"line": N, "schema": NAME, "ok": BOOL, "errors": [...]}. Every schema is first
checked against the draft 2020-12 metaschema. Exit 0 when every payload is valid, 1 otherwise,
2 on a usage problem.
"""
import json
import re
import sys
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

TOPICS = [
    (r"^pingan/[^/]+/status$", "status"),
    (r"^pingan/[^/]+/readings/[^/]+$", "reading"),
    (r"^pingan/[^/]+/telemetry/[^/]+$", "telemetry"),
    (r"^pingan/[^/]+/devices/[^/]+/health$", "device-health"),
    (r"^pingan/[^/]+/devices/[^/]+/commands/[^/]+$", "device-command-result"),
    (r"^pingan/[^/]+/alerts/[^/]+$", "alert"),
    (r"^pingan/[^/]+/notify/[^/]+/[^/]+$", "alert"),
    (r"^pingan/[^/]+/referrals/[^/]+/[^/]+$", "referral"),
    (r"^pingan/[^/]+/cmd/alerts/[^/]+/[^/]+$", "command"),
    (r"^pingan/[^/]+/cmd/devices/[^/]+/[^/]+$", "command"),
]


def load(schema_dir: Path):
    schemas = {}
    resources = []
    for path in sorted(schema_dir.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        name = path.name.removesuffix(".schema.json")
        schemas[name] = schema
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry = Registry().with_resources(resources)
    return {n: Draft202012Validator(s, registry=registry) for n, s in schemas.items()}


def schema_for(target: str, payload) -> str | None:
    if target.startswith("@"):
        return target[1:]
    for pattern, name in TOPICS:
        if re.match(pattern, target):
            if name == "referral" and isinstance(payload, dict) and "resourceType" in payload:
                return "referral-fhir"
            return name
    return None


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: validate_payloads.py SCHEMA_DIR < messages", file=sys.stderr)
        return 2
    validators = load(Path(sys.argv[1]))
    all_ok = True
    for n, line in enumerate(sys.stdin, start=1):
        line = line.rstrip("\n")
        if not line:
            continue
        target, _, text = line.partition(" ")
        errors = []
        try:
            payload = json.loads(text)
        except ValueError as e:
            payload = None
            errors.append(f"not JSON: {e}")
        name = schema_for(target, payload)
        if name is None or name not in validators:
            errors.append(f"no schema for {target}")
        elif not errors:
            for e in sorted(validators[name].iter_errors(payload), key=lambda e: list(e.path)):
                where = "/".join(str(p) for p in e.absolute_path) or "(top)"
                errors.append(f"{where}: {e.message}")
        ok = not errors
        all_ok &= ok
        print(json.dumps({"line": n, "target": target, "schema": name, "ok": ok, "errors": errors[:5]}), flush=True)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
