import sys

from aula_ws.cli import main

sys.exit(main())
