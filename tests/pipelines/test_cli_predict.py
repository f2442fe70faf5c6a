"""``fit --out`` and ``predict --model FILE``: a code-free file format, and one clear error for any other file."""

from __future__ import annotations

import pickle

import pytest

from conftest import run_cli
from test_cli_compare import _subset_csv

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
WORST = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


@pytest.mark.parametrize("kind", ["xgb", "gp", "rf"])
def test_a_saved_file_predicts_without_mlflow(workdir, kind):
    _subset_csv(workdir / "mine.csv")
    fit = run_cli("fit", "--predictor", kind, "--benchmark", "mine.csv", "--metric", "acc", "--out", "model.zip",
                  "--no-mlflow", check=True)
    assert "saved: model.zip" in fit.stdout
    proc = run_cli("predict", "--model", "model.zip", BEST, WORST, check=True)
    rows = [line.split() for line in proc.stdout.splitlines() if line.startswith("|")]
    assert [r[0] for r in rows] == [BEST, WORST]
    assert float(rows[0][1]) > float(rows[1][1])
    assert not (workdir / "mlruns").exists()


def test_a_pickle_or_a_text_file_is_one_line_and_exit_2(workdir):
    marker = workdir / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (workdir / "old.pkl").write_bytes(pickle.dumps({"predictor": Payload()}))
    (workdir / "notes.txt").write_text("not a model\n")
    for path, reason in (("old.pkl", "is a pickle"), ("notes.txt", "not a predictor saved by"),
                         ("missing.zip", "cannot read a saved predictor")):
        proc = run_cli("predict", "--model", path, BEST)
        assert proc.returncode == 2, proc
        assert reason in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
        assert "Traceback" not in proc.stderr
    assert not marker.exists()


def test_archs_file_errors_name_the_line(workdir):
    _subset_csv(workdir / "mine.csv")
    run_cli("fit", "--predictor", "mean", "--benchmark", "mine.csv", "--metric", "acc", "--out", "m.zip", "--no-mlflow",
            check=True)
    (workdir / "archs.txt").write_text(f"{BEST}\n\n|bad|\n")
    proc = run_cli("predict", "--model", "m.zip", "--archs-file", "archs.txt")
    assert proc.returncode == 2 and "archs.txt line 3" in proc.stderr
