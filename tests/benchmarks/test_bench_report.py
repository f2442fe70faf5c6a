"""benchmarks/_report.py: sections name their commit and refuse uncommitted code; cached rows carry their commit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench_scripts import BENCH, load_script


@pytest.fixture
def report(monkeypatch, tmp_path):
    module = load_script("_report")
    monkeypatch.setattr(module, "DOC", tmp_path / "benchmarks.md")
    monkeypatch.setattr(module, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(module, "_RUN", {})
    return module


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_code_state_sees_changed_and_untracked_code_but_not_docs(report, tmp_path):
    repo = tmp_path / "repo"
    (repo / "surrogate_nas").mkdir(parents=True)
    (repo / "docs").mkdir()
    (repo / "surrogate_nas" / "a.py").write_text("x = 1\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    clean = report.code_state(repo)
    assert not clean.dirty and len(clean.commit) == 40 and clean.label == clean.commit[:12]

    (repo / "docs" / "benchmarks.md").write_text("numbers\n")
    assert not report.code_state(repo).dirty  # documents are not code

    (repo / "surrogate_nas" / "a.py").write_text("x = 2\n")
    (repo / "benchmarks").mkdir()
    (repo / "benchmarks" / "new.py").write_text("")
    dirty = report.code_state(repo)
    assert dirty.changed == ("benchmarks/new.py", "surrogate_nas/a.py")
    assert dirty.label.endswith("+uncommitted")
    with pytest.raises(report.DirtyCodeError, match="--allow-dirty"):
        report.check_code(dirty, allow_dirty=False)
    report.check_code(dirty, allow_dirty=True)


def test_write_section_names_the_commit_and_refuses_dirty_code(report, monkeypatch):
    state = report.CodeState("a" * 40)
    monkeypatch.setattr(report, "code_state", lambda root=None: state)
    report.start_run()
    report.write_section("demo", "Demo", "body", packages=("pytest",))
    text = report.DOC.read_text()
    assert "Code: commit `aaaaaaaaaaaa`" in text and "torch" in text and "pytest" in text
    assert "DRY RUN" not in text

    dirty = report.CodeState("a" * 40, ("benchmarks/x.py",))
    monkeypatch.setattr(report, "code_state", lambda root=None: dirty)
    with pytest.raises(report.DirtyCodeError):
        report.write_section("demo", "Demo", "body")
    report.start_run(allow_dirty=True)
    report.write_section("demo", "Demo", "body")
    text = report.DOC.read_text()
    assert "DRY RUN, uncommitted code" in text and text.count("<!-- BEGIN demo -->") == 1


def test_code_changed_during_the_run_is_refused(report, monkeypatch):
    monkeypatch.setattr(report, "code_state", lambda root=None: report.CodeState("a" * 40))
    report.start_run()
    monkeypatch.setattr(report, "code_state", lambda root=None: report.CodeState("b" * 40))
    with pytest.raises(report.DirtyCodeError, match="changed during the run"):
        report.write_section("demo", "Demo", "body")


def test_cached_rows_from_another_commit_are_refused(report, monkeypatch):
    monkeypatch.setattr(report, "code_state", lambda root=None: report.CodeState("a" * 40))
    report.start_run()
    report.save_frame(pd.DataFrame({"x": [1, 2]}), "rows")
    assert set(pd.read_csv(report.RESULTS / "rows.csv")["commit"]) == {"a" * 12}
    assert report.load_frame("rows")["x"].tolist() == [1, 2]

    monkeypatch.setattr(report, "code_state", lambda root=None: report.CodeState("b" * 40))
    report.start_run()
    with pytest.raises(report.StaleResultsError, match="aaaaaaaaaaaa"):
        report.load_frame("rows")
    pd.DataFrame({"x": [1]}).to_csv(report.RESULTS / "old.csv", index=False)
    with pytest.raises(report.StaleResultsError, match="no commit"):
        report.load_frame("old")


def test_scripts_offer_allow_dirty():
    out = subprocess.run([sys.executable, str(BENCH / "peer_selection.py"), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--allow-dirty" in out.stdout


def test_a_script_that_fixes_the_hash_seed_hashes_alike_in_every_run(tmp_path):
    script = tmp_path / "hashes.py"
    script.write_text("import sys\nsys.path.insert(0, %r)\nfrom _report import fix_hash_seed\nfix_hash_seed()\n"
                      "print(hash('surrogate-nas'))\n" % str(BENCH))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    runs = {subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert len(runs) == 1 and runs != {""}


def test_versions_name_every_core_library_under_whichever_distribution_installed_it(report):
    import xgboost

    line = report.versions()
    assert f"xgboost {xgboost.__version__}" in line and "not installed" not in line, line
