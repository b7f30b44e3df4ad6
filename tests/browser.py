"""A headless Chromium driven over the Chrome DevTools Protocol on a pipe, with the standard library only.

Chromium started with --remote-debugging-pipe reads commands from its fd 3 and writes replies and events
to its fd 4, each a JSON message ended by a NUL byte. No port, no network, no download: the browser is
the system's (Debian's `chromium`). Every wait has a deadline; close() kills the browser's process group.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Optional

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--no-default-browser-check", "--disable-extensions", "--disable-background-networking", "--disable-sync",
         "--disable-component-update", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
         "--force-color-profile=srgb", "--font-render-hinting=none")


def find_browser() -> Optional[str]:
    return next((path for path in map(shutil.which, NAMES) if path), None)


class BrowserError(RuntimeError):
    pass


class Browser:
    """One browser, one page. `events` collects every event of the page's session."""

    def __init__(self, executable: str, timeout: float = 15.0):
        self.timeout = timeout
        self.profile = tempfile.TemporaryDirectory(prefix="auditor-chromium-")
        self.log = Path(self.profile.name) / "stderr.log"
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()
        # Both child ends go to fds 3 and 4; first move them above 4 so no dup2 overwrites the other.
        child_in, child_out = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (commands_read, replies_write))
        os.close(commands_read), os.close(replies_write)
        actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 2, str(self.log), os.O_WRONLY | os.O_CREAT, 0o600),
                   (os.POSIX_SPAWN_DUP2, child_in, 3), (os.POSIX_SPAWN_DUP2, child_out, 4)]
        argv = [executable, *FLAGS, f"--user-data-dir={self.profile.name}", "about:blank"]
        try:
            # setsid: the browser and its helpers form one process group that close() can end.
            self.pid = os.posix_spawn(executable, argv, {**os.environ, "HOME": self.profile.name},
                                      file_actions=actions, setsid=True)
        finally:
            os.close(child_in), os.close(child_out)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.session = None
        try:
            target = self.call("Target.createTarget", url="about:blank", session=False)["targetId"]
            self.session = self.call("Target.attachToTarget", targetId=target, flatten=True, session=False)["sessionId"]
        except Exception:
            self.close()
            raise

    def call(self, method: str, session: bool = True, **params) -> dict:
        """Send one command (to the page's session unless session=False) and return its result."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        reply = self._receive(lambda m: m.get("id") == self._next_id, f"reply to {method}")
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def wait_for(self, method: str) -> dict:
        """The first page event `method` not yet waited for (events already received count)."""
        for event in self.events:
            if event.get("method") == method and not event.get("_seen"):
                event["_seen"] = True
                return event
        event = self._receive(lambda m: m.get("method") == method, method)
        event["_seen"] = True
        return event

    def open(self, url: str, width: int = 1200, height: int = 900) -> None:
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        navigation = self.call("Page.navigate", url=url)
        if navigation.get("errorText"):
            raise BrowserError(f"cannot load {url}: {navigation['errorText']}")
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"evaluate failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def screenshot(self, full_page: bool = False) -> bytes:
        params = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})
        return base64.b64decode(self.call("Page.captureScreenshot", **params)["data"])

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, and browser log errors, as text."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append("exception: " + params["exceptionDetails"].get("text", ""))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                found.append(f"console.{params['type']}: " + " ".join(str(a.get("value", a.get("description")))
                                                                      for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
                found.append(f"log {params['entry']['level']}: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        return found

    def _receive(self, wanted, what: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "method" in message and message.get("sessionId") == self.session and self.session:
                    self.events.append(message)
                if wanted(message):
                    return message
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._replies], [], [], left)[0]:
                raise BrowserError(f"no {what} within {self.timeout} s; browser log: {self._log_tail()}")
            chunk = os.read(self._replies, 1 << 20)
            if not chunk:
                raise BrowserError(f"the browser closed the pipe; browser log: {self._log_tail()}")
            self._buffer += chunk

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-800:]
        except OSError:
            return "(none)"

    def close(self) -> None:
        """Ask the browser to quit (it then reaps its helpers); after 2 s, kill its whole process group."""
        if self.pid is None:
            return
        try:
            self.timeout = 2.0
            self.call("Browser.close", session=False)
        except (BrowserError, OSError):
            pass
        for fd in (self._commands, self._replies):
            os.close(fd)
        deadline = time.monotonic() + 2.0
        while os.waitpid(self.pid, os.WNOHANG) == (0, 0) and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            os.killpg(self.pid, signal.SIGKILL)  # helpers left behind, or a browser that did not quit
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        self.pid = None
        self.profile.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
