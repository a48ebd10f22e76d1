"""Physics that used to live in the CLI, now in the library: image damage, lattice T_c, diffusion presets,
and the one progress-bar helper."""

import io
import math

import numpy as np
import pytest

from thermolearn.datasets.damage import REGIONS, damage_mask
from thermolearn.exact.critical_temperature import (
    CUBIC_CRITICAL_TEMPERATURE,
    critical_temperature_source,
    lattice_critical_temperature,
)
from thermolearn.progress import progress_bar, progress_enabled


def test_damage_masks_cover_the_asked_region():
    rng = np.random.default_rng(0)
    bottom = damage_mask(2, (4, 4), "bottom", 0.5, rng)
    assert bottom.shape == (2, 16) and bottom[:, 8:].all() and not bottom[:, :8].any()
    top = damage_mask(1, (4, 4), "top", 0.5, rng).reshape(4, 4)
    assert top[:2].all() and not top[2:].any()
    left = damage_mask(1, (4, 4), "left", 0.5, rng).reshape(4, 4)
    assert left[:, :2].all() and not left[:, 2:].any()
    right = damage_mask(1, (4, 6), "right", 0.5, rng).reshape(4, 6)
    assert right[:, 3:].all() and not right[:, :3].any()
    rand = damage_mask(200, (8, 8), "random", 0.3, rng)
    assert abs(rand.mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / rand.size)


def test_damage_masks_follow_the_generator():
    a = damage_mask(5, (8, 8), "random", 0.4, np.random.default_rng(3))
    b = damage_mask(5, (8, 8), "random", 0.4, np.random.default_rng(3))
    assert np.array_equal(a, b) and set(REGIONS) == {"random", "top", "bottom", "left", "right"}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"region": "middle"}, "region must be one of"),
        ({"fraction": 1.5}, "fraction must be in"),
        ({"n_images": 0}, "n_images"),
        ({"image_shape": (4,)}, "image_shape"),
    ],
)
def test_damage_masks_refuse_bad_arguments(kwargs, match):
    args = {"n_images": 2, "image_shape": (4, 4), "region": "random", "fraction": 0.5, **kwargs}
    with pytest.raises(ValueError, match=match):
        damage_mask(rng=np.random.default_rng(0), **args)


def test_lattice_critical_temperatures():
    assert lattice_critical_temperature(1) is None
    assert lattice_critical_temperature(2) == pytest.approx(2 / math.log(1 + math.sqrt(2)), rel=1e-15)
    assert lattice_critical_temperature(2, 0.5) == pytest.approx(1 / math.log(1 + math.sqrt(2)), rel=1e-15)
    assert lattice_critical_temperature(3, 2.0) == 2 * CUBIC_CRITICAL_TEMPERATURE
    assert CUBIC_CRITICAL_TEMPERATURE == pytest.approx(1 / 0.221654626, rel=1e-7)  # Ferrenberg, Xu, Landau 2018
    assert lattice_critical_temperature(4) is None
    assert critical_temperature_source(2) == "exact: Onsager" and "Monte Carlo" in critical_temperature_source(3)
    assert critical_temperature_source(1) is None
    with pytest.raises(ValueError, match="coupling"):
        lattice_critical_temperature(2, -1.0)
    with pytest.raises(ValueError, match="dimension"):
        lattice_critical_temperature(0)


def test_diffusion_presets_for_points_and_images():
    pytest.importorskip("jax")
    from thermolearn.datasets import load_dataset
    from thermolearn.diffusion import DiffusionConfig
    from thermolearn.diffusion.presets import preset_config, preset_training

    roll = load_dataset("swiss-roll", n=100, seed=0)
    config = DiffusionConfig.for_dataset(roll)
    assert config == preset_config(roll)
    assert (config.steps, config.parameterization, config.network, config.hidden, config.depth) == (
        40,
        "paper",
        "mlp",
        128,
        3,
    )
    settings = preset_training(roll, config)
    assert settings.as_dict() == {"iterations": 3000, "batch_size": 256, "learning_rate": 2e-3, "objective": "vb"}

    digits = load_dataset("digits", n=50, seed=0)
    config = preset_config(digits)
    assert (config.steps, config.parameterization, config.hidden, config.depth) == (100, "eps", 512, 4)
    assert config.beta_1 == pytest.approx((2.0 / digits.levels) ** 2)
    assert preset_training(digits, config).objective == "hybrid"
    fixed = preset_config(digits, learn_variance=False)
    assert preset_training(digits, fixed).objective == "simple"
    assert preset_config(digits, steps=7, hidden=33).steps == 7
    assert preset_training(digits, config, iterations=5, objective="vb").as_dict()["iterations"] == 5


def test_progress_bars_are_drawn_only_on_a_terminal(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("THERMOLEARN_PROGRESS", raising=False)
    assert not progress_enabled(True, stream=io.StringIO())
    assert progress_enabled(True, stream=Terminal()) and progress_enabled(None, stream=Terminal())
    assert not progress_enabled(None, worthwhile=False, stream=Terminal())
    assert not progress_enabled(False, stream=Terminal())
    monkeypatch.setenv("THERMOLEARN_PROGRESS", "always")
    assert progress_enabled(True, stream=io.StringIO()) and not progress_enabled(False)
    monkeypatch.setenv("THERMOLEARN_PROGRESS", "never")
    assert not progress_enabled(True, stream=Terminal())
    with pytest.raises(TypeError, match="progress"):
        progress_enabled("yes")


def test_a_disabled_bar_still_counts(monkeypatch):
    monkeypatch.delenv("THERMOLEARN_PROGRESS", raising=False)
    with progress_bar(total=3, desc="x", progress=False) as bar:
        bar.update(2)
    assert sum(progress_bar(iterable=range(4), desc="y", progress=False)) == 6
