"""A Kafka broker of the test's own, so it can be killed without touching the shared one.

It runs the jars deploy/local/kafka.sh cached under .data/services/dist (same KRaft combined
mode, same logging config) on free ports with a data dir in the test's tmp directory.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.gateway_processes import free_port

LOCAL = ROOT / "deploy" / "local"
DIST = ROOT / ".data" / "services" / "dist"


def _kafka_libs() -> Path:
    pom = (LOCAL / "kafka" / "pom.xml").read_text()
    match = re.search(r"<kafka.version>(.*)</kafka.version>", pom)
    assert match, "deploy/local/kafka/pom.xml names no kafka.version"
    libs = DIST / f"kafka-libs-{match.group(1)}"
    if not libs.is_dir():
        pytest.fail(
            f"{libs} is missing: run `bash deploy/local/kafka.sh up` once to fetch the jars"
        )
    return libs


class PrivateKafka:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.controller_port = free_port()
        self.bootstrap_servers = f"127.0.0.1:{self.port}"
        self.log = home / "kafka.log"
        self.properties = home / "server.properties"
        self._libs = _kafka_libs()
        self._process: subprocess.Popen[bytes] | None = None
        home.mkdir(parents=True, exist_ok=True)
        self.properties.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.bootstrap.servers=127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},"
                    f"CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                    f"log.dirs={home / 'data'}",
                    "num.partitions=3",
                    "auto.create.topics.enable=true",
                    "offsets.topic.replication.factor=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "default.replication.factor=1",
                    "min.insync.replicas=1",
                    "group.initial.rebalance.delay.ms=0",
                    # After a SIGKILL the restarted node waits for its previous registration's
                    # session to expire before it serves; the 9 s default would dominate.
                    "broker.session.timeout.ms=2000",
                    "broker.heartbeat.interval.ms=500",
                    "num.network.threads=1",
                    "num.io.threads=2",
                    "",
                ]
            )
        )

    def _java(self, *args: str) -> list[str]:
        log4j = LOCAL / "kafka" / "log4j2.properties"
        return [
            "java",
            "-Xms128m",
            "-Xmx384m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",  # a short-lived broker: start-up time over peak speed
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp",
            f"{self._libs}/*",
            *args,
        ]

    def format_storage(self) -> None:
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        with self.log.open("ab") as log:
            subprocess.run(
                self._java(
                    "kafka.tools.StorageTool",
                    "format",
                    "--standalone",
                    "-t",
                    cluster_id,
                    "-c",
                    str(self.properties),
                ),
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self._java("kafka.Kafka", str(self.properties)),
            cwd=self.home,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    async def start(self, within_seconds: float = 60) -> float:
        """Start the broker (same ports, same data dir on a restart); the seconds it took."""
        started = time.monotonic()
        offset = self.log.stat().st_size if self.log.exists() else 0
        self._process = await asyncio.to_thread(self._spawn)
        while time.monotonic() - started < within_seconds:
            if self._process.poll() is not None:
                raise AssertionError(f"private Kafka exited: {self.log.read_text()[-3000:]}")
            with self.log.open("rb") as log:
                log.seek(offset)
                if b"Kafka Server started" in log.read():
                    return time.monotonic() - started
            await asyncio.sleep(0.2)
        self.kill()
        raise AssertionError(f"private Kafka did not start in {within_seconds} s")

    def kill(self) -> None:
        """SIGKILL: the broker vanishes mid-request, as in a crash or a lost node."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()
        self._process = None
