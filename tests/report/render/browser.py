"""Open a page in headless Chromium and inspect it through the DevTools protocol.

Uses ``--remote-debugging-pipe``: Chromium reads protocol commands on file
descriptor 3 and writes replies and events on descriptor 4, each message
JSON terminated by a NUL byte. No websocket client, no extra dependency.
The page itself runs no script; our ``Runtime.evaluate`` calls inspect it
from outside.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    override = os.environ.get("OLSCHECK_CHROMIUM")
    if override:
        return override if shutil.which(override) or Path(override).is_file() else None
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageReport:
    """What the browser saw while loading one page."""

    evaluation: dict[str, Any]
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


class DevToolsPipe:
    """A minimal DevTools-protocol session with a headless Chromium over pipes."""

    def __init__(self, executable: str, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="olscheck-chromium-")
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def wire_descriptors() -> None:  # runs in the child before exec
            # move both ends above 4 first: dup2(fd, fd) would keep close-on-exec set
            reading = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 10)
            writing = fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 10)
            os.dup2(reading, 3)
            os.dup2(writing, 4)

        command = [
            executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
            f"--user-data-dir={self._profile}", "--remote-debugging-pipe", "--window-size=1200,900", "about:blank",
        ]
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire_descriptors, close_fds=False,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    # -- protocol ----------------------------------------------------------
    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        reply = self._read_until(lambda m: m.get("id") == self._next_id)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait_for_any(self, methods: tuple[str, ...], session: str | None = None) -> dict[str, Any]:
        """The first event of one of ``methods`` (already received, or the next to arrive)."""
        def wanted(message: dict[str, Any]) -> bool:
            return message.get("method") in methods and (session is None or message.get("sessionId") == session)

        for index, event in enumerate(self.events):
            if wanted(event):
                return self.events.pop(index)
        return self._read_until(wanted)

    def _read_until(self, wanted) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if wanted(message):
                    return message
                if "method" in message:
                    self.events.append(message)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium exited (status {self._process.poll()})")
            self._buffer += chunk

    # -- lifetime ----------------------------------------------------------
    def close(self) -> None:
        try:
            if self._process.poll() is None:
                try:
                    os.write(self._to_browser, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
                except OSError:
                    pass
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait(timeout=10)
        finally:
            for descriptor in (self._to_browser, self._from_browser):
                try:
                    os.close(descriptor)
                except OSError:
                    pass
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> "DevToolsPipe":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def inspect_page(executable: str, path: Path, expression: str, timeout: float = 60.0) -> PageReport:
    """Load ``path`` and evaluate ``expression`` (which must return a JSON string) once it has loaded.

    Console errors, uncaught exceptions, browser log errors (e.g. a failed
    resource load) and every URL the page requested are recorded.
    """
    url = path.resolve().as_uri()
    with DevToolsPipe(executable, timeout) as browser:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Page.navigate", {"url": url}, session=session)
        loaded = browser.wait_for_any(("Page.loadEventFired", "Page.javascriptDialogOpening"), session)
        if loaded["method"] == "Page.javascriptDialogOpening":
            # a script ran (an alert() blocks the page): that is the failure, say so at once
            message = loaded.get("params", {}).get("message")
            return PageReport(evaluation={}, console_errors=[f"script opened a dialog: {message!r}"])
        result = browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                   "awaitPromise": True}, session=session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluation failed: {result['exceptionDetails']}")
        evaluation = json.loads(result["result"]["value"])
        errors, requests = [], []
        for event in browser.events:
            if event.get("sessionId") != session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                errors.append("exception: " + str(params.get("exceptionDetails", {}).get("text")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                errors.append("log: " + str(params["entry"].get("text")) + " " + str(params["entry"].get("url", "")))
            elif method == "Network.requestWillBeSent":
                requests.append(str(params.get("request", {}).get("url", "")))
        return PageReport(evaluation=evaluation, console_errors=errors, requests=requests)
