"""Fitting energies to data: Hebbian storage and unlearning, moment matching (CD, PCD,
maximum likelihood) and pseudo-likelihood (inverse Ising)."""
