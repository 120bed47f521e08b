"""The `chainstore` command: a thin wrapper over Django management commands.

chainstore serve [--host H] [--port P]   run the web server (waitress)
chainstore migrate                        create/upgrade the database
chainstore demo [--stores N ...]          build the demo chain
chainstore verify                         balances == ledger
chainstore <any django command>           e.g. createsuperuser, shell
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chainstore.config.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        args = ["help", "--commands"]
        print(__doc__)
    execute_from_command_line(["chainstore", *args])


if __name__ == "__main__":
    main()
