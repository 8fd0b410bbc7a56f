"""Turn uploaded bytes into a `Sequence` or a state_dict, or say in one sentence what is wrong.

The names the app uses, gathered in one place (``from lstm_viz.files import loaders``); the code
is in the modules named for what they hold:

- `common`: the size check, decoding, quoting, the finite-and-within-limits check, the sequence
  limits and the file extensions;
- `sequences`: `load_sequence` (.csv / .tsv via `tables`, .npy, text) and `check_features`;
- `weights`: `load_state_dict_file` (.pt / .pth, .safetensors, .npz), with `weight_checks`;
- `model_config`: `infer_config`, `fitting_variants` and the limits on an uploaded model.
"""

from __future__ import annotations

from lstm_viz.errors import InputError
from lstm_viz.files.common import (
    ARRAY_EXTENSIONS,
    MAX_ABS_VALUE,
    MAX_FEATURES,
    MAX_ONE_HOT_CELLS,
    MAX_STEPS,
    MAX_UPLOAD_BYTES,
    MODEL_EXTENSIONS,
    TABLE_EXTENSIONS,
    display_char,
)
from lstm_viz.files.model_config import (
    MAX_ABS_WEIGHT,
    MAX_FILE_ELEMENTS,
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_PARAMS,
    MAX_UNPACKED_BYTES,
    VARIANT_BLOCKS,
    VARIANTS_BY_BLOCKS,
    fitting_variants,
    infer_config,
)
from lstm_viz.files.sequences import check_features, load_sequence
from lstm_viz.files.weights import load_state_dict_file

__all__ = [
    "MAX_UPLOAD_BYTES",
    "MAX_STEPS",
    "MAX_FEATURES",
    "MAX_ONE_HOT_CELLS",
    "MAX_ABS_VALUE",
    "MAX_ABS_WEIGHT",
    "TABLE_EXTENSIONS",
    "ARRAY_EXTENSIONS",
    "MODEL_EXTENSIONS",
    "VARIANT_BLOCKS",
    "VARIANTS_BY_BLOCKS",
    "InputError",
    "display_char",
    "load_sequence",
    "check_features",
    "MAX_HIDDEN",
    "MAX_LAYERS",
    "MAX_PARAMS",
    "MAX_FILE_ELEMENTS",
    "MAX_UNPACKED_BYTES",
    "load_state_dict_file",
    "infer_config",
    "fitting_variants",
]
