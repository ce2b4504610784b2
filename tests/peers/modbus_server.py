#!/usr/bin/env python3
"""A scriptable Modbus device for Pingan's tests and benchmarks, on a real pymodbus 3.16 server.

Usage:
    modbus_server.py --datastore FILE.json (--tcp 127.0.0.1:0 | --rtu /dev/pts/N [--baud 9600])
                     [--changing N --change-ms MS]

The datastore JSON maps unit ids to tables:
    {"units": {"3": {"coil": {"0": true}, "discrete": {}, "input": {"1": 215}, "holding": {}}}}
Addresses are 0-based protocol addresses. Unlisted addresses read as 0 / false; unit ids that
are not listed do not answer (like an absent device on a bus).

With `--changing N`, holding registers 0..N-1 of every unit change every `--change-ms` (the
side-by-side benchmark, bench/peers/): register `a` changes at wall-clock (Unix) times
`k * MS + a * MS / N` and then holds `base + k % 50`, base 200 for even and 400 for odd `a`
(20.0-24.9 and 40.0-44.9 at scale 0.1, a plausible room climate). A reader that knows the
receipt time and `value % 50` knows when the value it got was written. Values are computed
when read, so the change times are exact whatever the load.

On start it prints one line `READY <port>` (TCP: the bound port; RTU: 0). It then reads
commands on stdin, one per line, and answers each with one JSON line on stdout:
    count                   -> {"requests": {"UNIT:FC": n, ...}, "total": n, "connections": n}
    reset                   -> clears the request counters
    mode UNIT normal|silent|garbage
                            -> silent: no answer; garbage: an invalid frame instead of the answer
    exception UNIT CODE     -> answer every request of UNIT with exception CODE (0 = off)
    set UNIT TABLE ADDR VALUE / get UNIT TABLE ADDR
    down / up               -> TCP: close the listener and every connection / listen again
It exits when stdin closes, so a test that dies does not leave it behind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections import Counter

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.exceptions import NoSuchIdException
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer

# function code -> table
READ_TABLE = {1: "coil", 2: "discrete", 3: "holding", 4: "input"}
WRITE_TABLE = {5: "coil", 15: "coil", 6: "holding", 16: "holding"}


class Devices(ModbusServerContext):
    """The datastore of every unit, with per-unit failure modes.

    Subclasses ModbusServerContext only to be accepted by the server; pymodbus calls
    async_getValues/async_setValues directly on contexts flagged `old_simulator`.
    """

    def __init__(self, units: dict[int, dict[str, dict[int, int | bool]]], changing=0, change_ms=100):  # pylint: disable=super-init-not-called
        self.units = units
        self.changing = changing
        self.change_ns = change_ms * 1_000_000
        self.modes: dict[int, str] = {}
        self.exceptions: dict[int, int] = {}
        self.old_simulator = True
        self.simdevices = []

    def device_ids(self):
        return list(self.units.keys())

    def _unit(self, device_id: int):
        if device_id not in self.units or self.modes.get(device_id) == "silent":
            raise NoSuchIdException(f"unit {device_id} does not answer")
        return self.units[device_id]

    async def async_getValues(self, device_id, func_code, address, count=1):
        unit = self._unit(device_id)
        if code := self.exceptions.get(device_id):
            return ExcCodes(code)
        table = READ_TABLE.get(func_code) or WRITE_TABLE.get(func_code)
        if table is None:
            return ExcCodes.ILLEGAL_FUNCTION
        store = unit.setdefault(table, {})
        if table in ("coil", "discrete"):
            return [bool(store.get(a, False)) for a in range(address, address + count)]
        if table == "holding" and address < self.changing:
            return self.changing_values(address, count, store)
        return [int(store.get(a, 0)) & 0xFFFF for a in range(address, address + count)]

    def changing_values(self, address, count, store):
        """Registers of `--changing`, as they are now (see the module doc)."""
        now = time.time_ns()
        period, n = self.change_ns, self.changing
        out = []
        for a in range(address, address + count):
            if a >= n:
                out.append(int(store.get(a, 0)) & 0xFFFF)
                continue
            k = (now - a * period // n) // period
            out.append((200 if a % 2 == 0 else 400) + k % 50)
        return out

    async def async_setValues(self, device_id, func_code, address, values):
        unit = self._unit(device_id)
        if code := self.exceptions.get(device_id):
            return ExcCodes(code)
        table = WRITE_TABLE.get(func_code)
        if table is None:
            return ExcCodes.ILLEGAL_FUNCTION
        store = unit.setdefault(table, {})
        for i, v in enumerate(values):
            store[address + i] = bool(v) if table == "coil" else int(v)
        return None


class Peer:
    """The server, its counters and its control loop."""

    def __init__(self, args, devices: Devices):
        self.args = args
        self.devices = devices
        self.requests: Counter[str] = Counter()
        self.server = None
        self.port = 0
        self.connections = 0

    def trace_pdu(self, sending: bool, pdu):
        if not sending:
            self.requests[f"{pdu.dev_id}:{pdu.function_code}"] += 1
        return pdu

    def trace_connect(self, connected: bool) -> None:
        if connected:
            self.connections += 1

    def trace_packet(self, sending: bool, data: bytes) -> bytes:
        if not sending or not data:
            return data
        if self.args.tcp:
            unit = data[6] if len(data) > 7 else -1
            if self.devices.modes.get(unit) == "garbage":
                # A valid MBAP header around a PDU whose byte count lies.
                pdu = bytes([data[7], 0xFA, 0xDE, 0xAD, 0xBE, 0xEF])
                return data[:4] + (len(pdu) + 1).to_bytes(2, "big") + bytes([unit]) + pdu
        else:
            unit = data[0]
            if self.devices.modes.get(unit) == "garbage":
                return bytes([unit, 0x03, 0x04, 0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x00])
        return data

    async def start(self):
        common = dict(
            ignore_missing_devices=True,
            trace_pdu=self.trace_pdu,
            trace_packet=self.trace_packet,
            trace_connect=self.trace_connect,
        )
        if self.args.tcp:
            host, port = self.args.tcp.rsplit(":", 1)
            port = int(port) if self.port == 0 else self.port
            self.server = ModbusTcpServer(
                self.devices, framer=FramerType.SOCKET, address=(host, port), **common
            )
            await self.server.serve_forever(background=True)
            self.port = self.server.transport.sockets[0].getsockname()[1]
        else:
            self.server = ModbusSerialServer(
                self.devices,
                framer=FramerType.RTU,
                port=self.args.rtu,
                baudrate=self.args.baud,
                **common,
            )
            await self.server.serve_forever(background=True)

    async def stop(self):
        if self.server is not None:
            await self.server.shutdown()
            self.server = None

    async def command(self, line: str) -> dict:
        words = line.split()
        if not words:
            return {"ok": True}
        cmd, rest = words[0], words[1:]
        if cmd == "count":
            return {
                "requests": dict(self.requests),
                "total": sum(self.requests.values()),
                "connections": self.connections,
            }
        if cmd == "reset":
            self.requests.clear()
            return {"ok": True}
        if cmd == "mode":
            self.devices.modes[int(rest[0])] = rest[1]
            return {"ok": True}
        if cmd == "exception":
            self.devices.exceptions[int(rest[0])] = int(rest[1])
            return {"ok": True}
        if cmd == "set":
            unit, table, addr, value = int(rest[0]), rest[1], int(rest[2]), rest[3]
            v = value.lower() == "true" if table in ("coil", "discrete") else int(value, 0)
            self.devices.units.setdefault(unit, {}).setdefault(table, {})[addr] = v
            return {"ok": True}
        if cmd == "get":
            unit, table, addr = int(rest[0]), rest[1], int(rest[2])
            return {"value": self.devices.units.get(unit, {}).get(table, {}).get(addr)}
        if cmd == "down":
            await self.stop()
            return {"ok": True}
        if cmd == "up":
            await self.start()
            return {"ok": True}
        return {"error": f"unknown command {cmd}"}


def load_units(path: str) -> dict[int, dict[str, dict[int, int | bool]]]:
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    units = {}
    for unit, tables in raw["units"].items():
        units[int(unit)] = {
            table: {int(a): v for a, v in values.items()} for table, values in tables.items()
        }
    return units


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datastore", required=True)
    parser.add_argument("--tcp", help="HOST:PORT to listen on (port 0 = any)")
    parser.add_argument("--rtu", help="serial device (one end of a socat pty pair)")
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument("--changing", type=int, default=0,
                        help="holding registers 0..N-1 change every --change-ms")
    parser.add_argument("--change-ms", type=int, default=100)
    args = parser.parse_args()
    if bool(args.tcp) == bool(args.rtu):
        parser.error("give exactly one of --tcp and --rtu")
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    peer = Peer(args, Devices(load_units(args.datastore), args.changing, args.change_ms))
    await peer.start()
    print(f"READY {peer.port}", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        try:
            reply = await peer.command(line.decode().strip())
        except Exception as exc:  # pylint: disable=broad-except
            reply = {"error": repr(exc)}
        print(json.dumps(reply), flush=True)
    await peer.stop()


if __name__ == "__main__":
    asyncio.run(main())
