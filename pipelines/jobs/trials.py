"""A search's trials as the database stores them: a JSON dict of values per trial.

Non-finite values are stored as null and read back as NaN; the trial's own fields (value, test
value, cost, status and message) sit beside its objective values.
"""

from __future__ import annotations

import math

from surrogate_nas.pipelines.search.history import Trial

_TRIAL_FIELDS = ("value", "test_value", "cost_s", "status", "message")


def trial_values(trial: Trial) -> dict:
    """A trial as the JSON dict stored in the database (non-finite values become null)."""
    values = {k: (None if not math.isfinite(v) else v) for k, v in trial.objectives.items()}
    values["value"] = trial.value
    values["test_value"] = trial.test_value
    values["cost_s"] = trial.cost_s
    if trial.status != "ok":
        values["status"], values["message"] = trial.status, trial.message
    return values


def trial_from_stored(space, arch: str, values: dict, fidelity: float = 1.0) -> Trial:
    """The inverse of :func:`trial_values`."""
    objectives = {k: (float("nan") if v is None else float(v)) for k, v in values.items()
                  if k not in _TRIAL_FIELDS}
    return Trial(space.parse(arch), float(values["value"]), objectives, values.get("test_value"),
                 float(values.get("cost_s") or 0), fidelity, values.get("status", "ok"), values.get("message", ""))
