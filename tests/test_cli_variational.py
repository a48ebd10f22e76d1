"""`thermolearn compare` and `thermolearn meanfield`, run through their own parsers."""

import json
import math

import pytest

from thermolearn import Ising
from thermolearn.cli import compare_command, meanfield_command
from thermolearn.cli.options import CommandParser
from thermolearn.exact import enumerate_exact, onsager
from thermolearn.variational.lattice_mean_field import bethe_magnetization, mean_field_magnetization


def run(module, argv):
    parser = CommandParser(prog="thermolearn")
    sub = parser.add_subparsers()
    module.register(sub)
    args = parser.parse_args(argv)
    return args.run(args)


def test_compare_on_a_model_file_writes_the_documented_json(tmp_path, capsys):
    model = Ising.sherrington_kirkpatrick(10, field=0.2, seed=5)
    model.save(tmp_path / "sk.npz")
    out = tmp_path / "out.json"
    code = run(
        compare_command,
        [
            "compare",
            str(tmp_path / "sk.npz"),
            "--temperature",
            "0.8",
            "--methods",
            "exact",
            "mean_field",
            "tap",
            "bethe",
            "--json",
            str(out),
        ],
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "lower_bound" in text and "approximation" in text
    record = json.loads(out.read_text())
    assert record["temperature"] == 0.8 and record["n_spins"] == 10
    methods = {m["method"]: m for m in record["methods"]}
    assert list(methods) == ["exact", "mean_field", "tap", "bethe"]
    for m in methods.values():
        assert {
            "method",
            "kind",
            "log_z",
            "log_z_stderr",
            "energy_per_spin",
            "magnetization_per_spin",
            "converged",
        } <= set(m)
        assert m["kind"] in ("exact", "lower_bound", "estimate", "approximation")
    exact = enumerate_exact(model, 0.8)[0]
    assert methods["exact"]["log_z"] == pytest.approx(exact.log_z, rel=1e-12)
    assert methods["exact"]["energy_per_spin"] == pytest.approx(exact.energy_per_spin, rel=1e-10)
    assert methods["mean_field"]["log_z"] <= exact.log_z
    assert methods["mean_field"]["log_z_stderr"] is None


def test_compare_on_an_edge_list_includes_black_box_vi_with_an_error_bar(tmp_path, capsys):
    path = tmp_path / "ring.txt"
    path.write_text("6 6\n1 2 1\n2 3 -1\n3 4 1\n4 5 1\n5 6 -1\n6 1 1\n")
    out = tmp_path / "ring.json"
    run(
        compare_command,
        ["compare", str(path), "-T", "1.0", "--methods", "exact", "bbvi", "--bbvi-steps", "200", "--json", str(out)],
    )
    record = json.loads(out.read_text())
    exact, bbvi = record["methods"]
    assert bbvi["method"] == "bbvi" and bbvi["kind"] == "lower_bound"
    assert bbvi["log_z_stderr"] > 0
    assert bbvi["log_z"] <= exact["log_z"] + 3 * bbvi["log_z_stderr"]


def test_compare_skips_what_does_not_fit_and_refuses_it_when_asked(tmp_path, capsys):
    model = Ising.sherrington_kirkpatrick(40, seed=2)
    model.save(tmp_path / "big.npz")
    with pytest.raises(ValueError, match="Methods that fit: mean_field, tap, bethe, bbvi"):
        run(compare_command, ["compare", str(tmp_path / "big.npz"), "-T", "1", "--methods", "exact"])
    with pytest.raises(ValueError, match="unknown method 'magic'"):
        run(compare_command, ["compare", "--lattice", "4x4", "-T", "1", "--methods", "magic"])
    with pytest.raises(ValueError, match="one temperature"):
        run(compare_command, ["compare", "--lattice", "4x4", "-T", "1:2:3"])
    with pytest.raises(SystemExit):  # refused while parsing: one line, exit 2
        run(compare_command, ["compare", "--lattice", "4x4", "-T", "-1"])
    with pytest.raises(ValueError, match="must end in .json"):
        run(compare_command, ["compare", "--lattice", "4x4", "-T", "1", "--json", str(tmp_path / "x.txt")])
    run(compare_command, ["compare", "--lattice", "12x12", "-T", "2.0", "--methods", "exact", "mean_field"])
    assert "kaufman" in capsys.readouterr().out


def test_meanfield_draws_three_curves_and_marks_three_critical_temperatures(tmp_path, capsys):
    out, png = tmp_path / "m.json", tmp_path / "m.png"
    code = run(
        meanfield_command,
        ["meanfield", "--lattice", "8x8", "-T", "1.5", "2.5", "3.5", "4.5", "--json", str(out), "--plot", str(png)],
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "mean field 4" in text and "bethe 2.88539" in text and "exact 2.26919" in text
    record = json.loads(out.read_text())
    tc = record["critical_temperatures"]
    assert tc["mean_field"] == 4.0
    assert tc["bethe"] == pytest.approx(2 / math.log(2))
    assert tc["exact"] == pytest.approx(onsager.critical_temperature())
    for r in record["results"]:
        T = r["temperature"]
        assert r["mean_field"] == pytest.approx(mean_field_magnetization(T, 4), abs=1e-7)
        assert r["bethe"] == pytest.approx(bethe_magnetization(T, 4), abs=1e-6)
        assert r["exact"] == pytest.approx(float(onsager.spontaneous_magnetization(T)), abs=1e-12)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_meanfield_in_a_field_on_a_chain_has_no_transition_and_bethe_is_exact(tmp_path):
    out = tmp_path / "chain.json"
    run(meanfield_command, ["meanfield", "--lattice", "64", "--field", "0.2", "-T", "0.5", "1.0", "--json", str(out)])
    record = json.loads(out.read_text())
    assert record["critical_temperatures"] == {"mean_field": None, "bethe": None, "exact": None}
    for r in record["results"]:
        assert r["bethe"] == pytest.approx(r["exact"], abs=1e-8)  # Bethe is exact on the (periodic) chain


def test_meanfield_refuses_models_that_are_not_uniform_ferromagnetic_lattices(tmp_path):
    Ising.sherrington_kirkpatrick(8, seed=1).save(tmp_path / "sk.npz")
    with pytest.raises(ValueError, match="for a lattice"):
        run(meanfield_command, ["meanfield", str(tmp_path / "sk.npz")])
    with pytest.raises(ValueError, match="ferromagnetic"):
        run(meanfield_command, ["meanfield", "--lattice", "4x4", "--coupling", "-1", "-T", "1"])
    with pytest.raises(SystemExit):  # refused while parsing: one line, exit 2
        run(meanfield_command, ["meanfield", "--lattice", "4x4", "--max-iter", "0"])
