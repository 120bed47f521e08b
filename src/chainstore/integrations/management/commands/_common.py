"""Shared bits of the import/export commands: the acting user, rich output, clean exits."""

from __future__ import annotations

import io
import sys
from typing import Any, NoReturn

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rich.console import Console


def render(write: Any, *renderables: Any) -> None:
    """Render rich objects to text and write them through the command's stdout/stderr."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, force_terminal=False, color_system=None)
    for item in renderables:
        console.print(item)
    write(buffer.getvalue().rstrip("\n"))


def fail(command: BaseCommand, message: str, code: int = 1) -> NoReturn:
    """Print a one-line error (never a traceback) and exit with `code`."""
    command.stderr.write(f"error: {message}")
    sys.exit(code)


def acting_user(command: BaseCommand, username: str) -> Any:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        fail(command, f"no user named {username!r}; pass --user USERNAME")
    return user
