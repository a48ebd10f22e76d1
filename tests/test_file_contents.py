"""FileContents: header values that JSON allows but no float can hold are refused like any bad value."""

from __future__ import annotations

import pytest

from thermolearn.file_contents import FileContents
from thermolearn.storage import FileFormatError, load_arrays, save_arrays


def test_an_integer_beyond_the_float_range_is_not_a_finite_number():
    contents = FileContents("model.npz", {}, {"field": 10**400, "n": 10**400})
    with pytest.raises(FileFormatError, match=r"model\.npz: header entry 'field' must be a finite number, got 1000"):
        contents.value("field", float)
    message = ""
    try:
        contents.value("n", int, maximum=100)
    except FileFormatError as exc:
        message = str(exc)
    assert message.startswith("model.npz: header entry 'n' must be <= 100, got 1000") and len(message) < 200
    assert contents.value("n", int) == 10**400  # an int is an int, however big


def test_a_model_file_with_a_400_digit_field_is_refused_naming_the_file(tmp_path):
    from thermolearn.models.ising import Ising

    path = tmp_path / "ising.npz"
    Ising.lattice((4, 4)).save(path)
    arrays, header = load_arrays(path)
    header["geometry"]["field"] = 10**400
    save_arrays(path, arrays, header)
    with pytest.raises(FileFormatError, match=r"ising\.npz: header entry 'geometry': 'field' must be a finite number"):
        Ising.load(path)
