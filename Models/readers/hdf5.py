"""Reader for Keras HDF5 model and weight files (``model.save(...)`` / ``save_weights(...)``), via h5py.

Layout written by Keras 2:

- a whole model: root attributes ``model_config`` (JSON), ``keras_version``, ``backend``,
  ``training_config``; group ``model_weights`` with the weights; group ``optimizer_weights``
  with the optimizer's state (not read here)
- a weights file: the weights group is the root itself
- the weights group's attribute ``layer_names`` lists the layers in model order; each layer is a
  group whose attribute ``weight_names`` lists its weights in the order the layer creates them
  (for example ``conv2d_1_1/kernel:0``); each weight is a dataset at ``<layer>/<weight name>``

Tensors are named ``<layer>/<weight>``: the layer name and the last component of the weight
name without the ``:0`` suffix (``conv2d_1/kernel``, ``batch_normalization_1/moving_mean``,
``separable_conv2d_1/depthwise_kernel``). Keras layouts are kept: Conv2D kernels
[kh, kw, in, out], depthwise kernels [kh, kw, in, multiplier], Dense kernels [in, out].
"""

import collections
import json

import numpy as np

from .common import ReaderError


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ReaderError("reading HDF5 needs the h5py package (python3 -m pip install h5py)") \
            from None
    return h5py


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value.item())
    return str(value)


def _names(attribute):
    if attribute is None:
        return []
    return [_text(v) for v in np.asarray(attribute).reshape(-1)]


def _open(path):
    h5py = _h5py()
    try:
        return h5py.File(path, "r")
    except OSError as error:
        raise ReaderError(f"{path}: not a readable HDF5 file ({error})") from None


def _weights_group(f, where):
    group = f["model_weights"] if "model_weights" in f else f
    if "layer_names" not in group.attrs:
        raise ReaderError(f"{where}: no 'layer_names' attribute; not a Keras model or weights file")
    return group


def read(path):
    """Returns ``{"<layer>/<weight>": numpy.ndarray}`` in the model's layer order."""
    where = str(path)
    out = collections.OrderedDict()
    with _open(path) as f:
        group = _weights_group(f, where)
        for layer in _names(group.attrs["layer_names"]):
            if layer not in group:
                raise ReaderError(f"{where}: layer {layer} is listed but has no group")
            g = group[layer]
            weights = _names(g.attrs.get("weight_names"))
            short = [w.split("/")[-1].split(":")[0] for w in weights]
            if len(set(short)) != len(short):
                short = [w.split(":")[0] for w in weights]  # ambiguous: keep the full name
            for weight, name in zip(weights, short):
                if weight not in g:
                    raise ReaderError(f"{where}: weight {layer}/{weight} is listed but missing")
                key = f"{layer}/{name}"
                if key in out:
                    raise ReaderError(f"{where}: two weights are named {key}")
                out[key] = np.array(g[weight][()])
    if not out:
        raise ReaderError(f"{where}: the file holds no weights")
    return out


def attributes(path):
    """The root attributes as text (``keras_version``, ``backend``, ``model_config`` ...)."""
    with _open(path) as f:
        return collections.OrderedDict((k, _text(v)) for k, v in f.attrs.items())


def model_config(path):
    """The parsed ``model_config`` JSON of a whole-model file."""
    attrs = attributes(path)
    if "model_config" not in attrs:
        raise ReaderError(f"{path}: no 'model_config' attribute (a weights-only file?)")
    try:
        return json.loads(attrs["model_config"], object_pairs_hook=collections.OrderedDict)
    except ValueError as error:
        raise ReaderError(f"{path}: model_config is not JSON ({error})") from None


def skipped_groups(path):
    """Top-level groups that ``read`` leaves out (``optimizer_weights``)."""
    with _open(path) as f:
        return [k for k in f.keys() if k != "model_weights"] if "model_weights" in f else []
