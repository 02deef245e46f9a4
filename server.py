"""Composition root: `python server.py [--host H] [--port P] [--demo]` is `aula-ws serve`."""

import sys

from aula_ws.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
