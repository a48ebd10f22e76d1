"""``thermolearn quantum qbm|vmc``: quantum Boltzmann machines and RBM neural quantum states."""

from __future__ import annotations

import argparse


def register_learning_actions(psub: argparse._SubParsersAction) -> None:
    """Add the ``qbm`` and ``vmc`` actions to the ``quantum`` command's subparsers."""
