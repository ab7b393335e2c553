"""Profile folders: a table, its metadata and fitted predictors, tied by a hash.

Layout of PROFILE_DIR::

    profile.json        {"format": "lens-fast-profile", "version": 1, "device": ...,
                         "table": "table.csv", "table_sha256": ..., "meta": {...}}
    table.csv           the measurements (DESIGN.md schema)
    predictors.json     power-law coefficients, held-out MAPE per (op, target)
    models/*.ubj        XGBoost boosters

Loading checks the table's hash against profile.json and the predictors' hash, so
a folder whose table was edited after fitting is refused rather than silently used.
"""

from __future__ import annotations

import json
from pathlib import Path

from lens_fast.device import predictors as pred
from lens_fast.device.model import DeviceModel, TableDevice, cache_root
from lens_fast.device.table import ProfileTable, load_table
from lens_fast.errors import InputFileError, ProfileError

FORMAT = "lens-fast-profile"
VERSION = 1


def save_profile(table: ProfileTable, folder: str | Path, seed: int = 0) -> pred.PredictorSet:
    """Fit predictors on `table` and write a complete profile folder."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputFileError(f"cannot create profile folder {folder}: {exc.strerror}") from exc
    fitted = pred.fit(table, seed=seed)
    try:
        table.save(folder / "table.csv")
        fitted.save(folder)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "device": table.device_name,
            "table": "table.csv",
            "table_sha256": table.content_hash,
            "meta": table.meta,
        }
        (folder / "profile.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    except OSError as exc:
        raise InputFileError(f"cannot write profile folder {folder}: {exc.strerror}") from exc
    return fitted


def load_profile(folder: str | Path) -> TableDevice:
    """Load a profile folder without refitting; refuse mismatched hashes."""
    folder = Path(folder)
    manifest_path = folder / "profile.json"
    if not manifest_path.exists():
        raise ProfileError(f"{folder} is not a profile folder (no profile.json)")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise ProfileError(f"{manifest_path} is not valid JSON: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise ProfileError(
            f"{manifest_path}: format {manifest.get('format')!r}, expected {FORMAT!r}"
        )
    table = load_table(folder / manifest.get("table", "table.csv"))
    table.meta = {**manifest.get("meta", {}), **table.meta}
    if table.content_hash != manifest.get("table_sha256"):
        raise ProfileError(
            f"{folder}: the table changed after the predictors were fitted "
            f"(hash {table.content_hash[:12]}, profile.json says "
            f"{str(manifest.get('table_sha256'))[:12]}); refit with `lens-fast profile fit`"
        )
    fitted = pred.load(folder)
    if fitted.table_hash != table.content_hash:
        raise ProfileError(f"{folder}: predictors were fitted on another table")
    return TableDevice(table, fitted)


def load_device(spec: str | Path | DeviceModel | None = None) -> DeviceModel:
    """A device from a spec: None/'builtin'/'builtin:tx2-cpu', a profile folder, a table file."""
    from lens_fast.device.builtin import BuiltinDevice

    if isinstance(spec, DeviceModel):
        return spec
    if spec is None or str(spec) == "builtin":
        return BuiltinDevice("tx2-gpu")
    text = str(spec)
    if text.startswith("builtin:"):
        return BuiltinDevice(text.split(":", 1)[1])
    path = Path(text)
    if path.is_dir():
        return load_profile(path)
    if not path.exists():
        raise InputFileError(
            f"no such profile: {path} (a table file, a profile folder, or 'builtin')"
        )
    return TableDevice(load_table(path), cache_dir=cache_root() / "predictors")
