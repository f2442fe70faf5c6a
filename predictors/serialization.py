"""Saving fitted predictors in a format that cannot run code when read.

A saved predictor is a zip file of

* ``header.json``: the format name and version, the predictor's class and
  hyper-parameters (:meth:`~surrogate_nas.predictors.base.Predictor.get_params`), its
  number of input features, and a caller's ``meta`` dict (JSON);
* ``arrays.npz``: its learned state as numpy arrays, read with ``allow_pickle=False``
  (a GP's training data and ``state_dict``, a forest's node arrays, a baseline's scalars);
* ``blobs/NAME``: opaque bytes in a library's own model format (each XGBoost member as
  UBJSON, loaded by XGBoost itself).

Only the classes in :data:`CLASSES` can be named by a header, so reading a file never
imports or calls anything the file chooses. Any other file (a pickle, text, a damaged
zip) is refused with an :class:`~surrogate_nas.errors.InputDataError` that says what it is.

Example:
    >>> import numpy as np, tempfile, os
    >>> from surrogate_nas.predictors.baselines import MeanPredictor
    >>> p = MeanPredictor().fit(np.eye(3), np.array([1.0, 2.0, 3.0]))
    >>> path = os.path.join(tempfile.mkdtemp(), "mean.zip")
    >>> _ = save_predictor(p, path, {"target": "valid_acc"})
    >>> loaded, meta = load_predictor(path)
    >>> float(loaded.predict(np.eye(3))[0][0]), meta["target"]
    (2.0, 'valid_acc')
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.predictors.base import Predictor
from surrogate_nas.predictors.baselines import MeanPredictor, ProxyPredictor
from surrogate_nas.predictors.ensemble import GPXGBEnsemble
from surrogate_nas.predictors.forest import RandomForestPredictor
from surrogate_nas.predictors.gnn import GraphNetPredictor
from surrogate_nas.predictors.gp import GPPredictor
from surrogate_nas.predictors.latency import LatencyRegressor
from surrogate_nas.predictors.xgb import XGBEnsemble

FORMAT = "surrogate-nas-predictor"
VERSION = 1
CLASSES: dict[str, type[Predictor]] = {
    cls.__name__: cls
    for cls in (XGBEnsemble, GPPredictor, GPXGBEnsemble, GraphNetPredictor, RandomForestPredictor, MeanPredictor,
                ProxyPredictor, LatencyRegressor)
}
"""The predictor classes a saved file may name."""

_HEADER, _ARRAYS, _BLOBS = "header.json", "arrays.npz", "blobs/"
_PICKLE_MAGIC = (b"\x80", b"(dp", b"(lp", b"}q")


def save_predictor(predictor: Predictor, path: str | Path, meta: dict | None = None) -> Path:
    """Write fitted ``predictor`` (and JSON-able ``meta``) to ``path``; return the path.

    Raises:
        InputDataError: the predictor is not fitted, not a class of :data:`CLASSES`, or
            ``meta`` is not JSON.
    """
    name = type(predictor).__name__
    if CLASSES.get(name) is not type(predictor):
        raise InputDataError(f"{name} cannot be saved; savable predictors: {', '.join(CLASSES)}")
    if not hasattr(predictor, "n_features_in_"):
        raise InputDataError(f"{name} is not fitted yet; fit it before saving")
    arrays, blobs = predictor.export_state()
    header = {"format": FORMAT, "version": VERSION, "class": name, "params": predictor.get_params(),
              "n_features_in": int(predictor.n_features_in_), "meta": dict(meta or {})}
    try:
        header_text = json.dumps(header, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputDataError(f"the predictor's header is not plain JSON: {exc}") from None
    packed = io.BytesIO()
    np.savez(packed, **{k: np.asarray(v) for k, v in arrays.items()})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(_HEADER, header_text)
        zf.writestr(_ARRAYS, packed.getvalue())
        for blob_name, data in blobs.items():
            zf.writestr(_BLOBS + blob_name, data)
    return path


def load_predictor(path: str | Path) -> tuple[Predictor, dict]:
    """Read a file written by :func:`save_predictor`: the fitted predictor and its ``meta``.

    Raises:
        InputDataError: the file is missing, a pickle, not a predictor file, of another
            format version, or damaged.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            start = fh.read(4)
    except OSError as exc:
        raise InputDataError(f"cannot read a saved predictor from {path}: {exc.strerror or exc}") from None
    if start.startswith(_PICKLE_MAGIC):
        raise InputDataError(f"{path} is a pickle; saved predictors are no longer read from pickles (loading one "
                             "can run any code). Fit it again with `surrogate-nas fit --out FILE`")
    if not zipfile.is_zipfile(path):
        raise InputDataError(f"{path} is not a predictor saved by `surrogate-nas fit` (expected its zip format)")
    try:
        with zipfile.ZipFile(path) as zf:
            header = json.loads(zf.read(_HEADER))
            _check_header(header, path)
            with np.load(io.BytesIO(zf.read(_ARRAYS)), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            blobs = {n[len(_BLOBS):]: zf.read(n) for n in zf.namelist() if n.startswith(_BLOBS)}
        predictor = CLASSES[header["class"]](**header["params"])
        predictor.import_state(arrays, blobs)
    except InputDataError:
        raise
    except (KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile) as exc:
        raise InputDataError(f"{path} is not a readable saved predictor ({type(exc).__name__}: {exc})") from None
    predictor.n_features_in_ = int(header["n_features_in"])
    return predictor, header.get("meta", {})


def _check_header(header, path: Path) -> None:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InputDataError(f"{path} is not a predictor saved by `surrogate-nas fit`")
    if header.get("version") != VERSION:
        raise InputDataError(f"{path} is saved predictor format version {header.get('version')}; this "
                             f"surrogate-nas reads version {VERSION}")
    if header.get("class") not in CLASSES:
        raise InputDataError(f"{path} names predictor class {header.get('class')!r}, which is not one of "
                             f"{', '.join(CLASSES)}")
    if not isinstance(header.get("params"), dict):
        raise InputDataError(f"{path} has no predictor parameters")
