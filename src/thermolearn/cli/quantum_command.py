"""``thermolearn quantum``: the transverse-field Ising model (exact, pimc, anneal, qbm, vmc).

The learning actions (qbm, vmc) are registered from :mod:`thermolearn.cli.quantum_learning_command`.
"""

from __future__ import annotations

import argparse

from thermolearn.cli.arguments import missing_action
from thermolearn.cli.quantum_learning_command import register_learning_actions


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "quantum",
        help="transverse-field Ising model: exact, path-integral Monte Carlo, annealing, QBM, VMC",
        description="The transverse-field Ising model H = -sum J_ij sz_i sz_j - sum h_i sz_i - sum Gamma_i sx_i.",
    )
    psub = p.add_subparsers(dest="quantum_command", metavar="ACTION")
    p.set_defaults(run=missing_action("quantum", "exact, pimc, anneal, qbm or vmc"))
    register_learning_actions(psub)
