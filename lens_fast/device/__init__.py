"""Device profiles: tables, XGBoost predictors, the builtin TX2, profile folders."""

from lens_fast.device.builtin import BuiltinDevice
from lens_fast.device.model import DeviceModel, TableDevice
from lens_fast.device.profile import load_device, load_profile, save_profile
from lens_fast.device.table import ProfileTable, from_frame, load_table

__all__ = [
    "BuiltinDevice",
    "DeviceModel",
    "ProfileTable",
    "TableDevice",
    "from_frame",
    "load_device",
    "load_profile",
    "load_table",
    "save_profile",
]
