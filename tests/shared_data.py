"""Where the tests find the project's shared real data sets (MNIST, binarised MNIST, Gset).

``$THERMOLEARN_SHARED_DATA`` wins; otherwise ``../shared/data`` beside the checkout, then the
workplace's ``/work/shared/data``. Tests that need a data set skip, with a reason, when it is
absent. The library itself never reads this folder.
"""

from __future__ import annotations

import os
from pathlib import Path


def shared_data_dir() -> Path:
    if os.environ.get("THERMOLEARN_SHARED_DATA"):
        return Path(os.environ["THERMOLEARN_SHARED_DATA"])
    beside = Path(__file__).resolve().parents[2] / "shared" / "data"
    return beside if beside.is_dir() else Path("/work/shared/data")


SHARED_DATA = shared_data_dir()
