"""What the benches share: the one platform builder (`common.platform`) and the one
server start-up (`common.server`).

The benches run as scripts (`.venv/bin/python bench/NAME.py`), so bench/ is on
sys.path and this package imports as `common`. The project root goes on it too:
some benches use the test suite's helpers (the throwaway PostgreSQL cluster, the
hand-made MNET peer, `aula_env`).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
