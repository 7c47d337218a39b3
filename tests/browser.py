"""Debian's Chromium for the browser tests: where it is and how it starts here.

The flags keep Chromium from reaching for Google's hosts (this machine has no network but
the package registries) and let it run as root in a container."""

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
