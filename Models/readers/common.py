"""Pieces shared by the PyTorch readers: storages, lazy tensors, a restricted unpickler."""

import codecs
import collections
import pickle

import numpy as np


class ReaderError(Exception):
    """A checkpoint could not be read; the message names the file and the problem."""


# torch.<Name>Storage -> numpy dtype (little-endian unless the file says otherwise)
STORAGE_DTYPES = {
    "DoubleStorage": np.dtype("<f8"),
    "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"),
    "BFloat16Storage": np.dtype("<u2"),  # widened to float32 when the tensor is built
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class StorageType:
    """Stand-in for a class such as ``torch.FloatStorage`` met in a pickle."""

    def __init__(self, name):
        self.name = name
        self.dtype = STORAGE_DTYPES[name]
        self.bfloat16 = name == "BFloat16Storage"

    def __repr__(self):
        return f"torch.{self.name}"


class Storage:
    """A flat typed buffer; ``data`` is filled in once the raw bytes have been read."""

    def __init__(self, storage_type, key, numel):
        self.storage_type = storage_type
        self.key = key
        self.numel = numel
        self.data = None  # 1-D numpy array of storage_type.dtype

    @property
    def dtype(self):
        return self.storage_type.dtype


class StorageView:
    """A legacy-format view into another storage (``view_metadata`` in the persistent id)."""

    def __init__(self, root, offset, numel):
        self.root = root
        self.offset = offset
        self.numel = numel

    @property
    def storage_type(self):
        return self.root.storage_type

    @property
    def data(self):
        if self.root.data is None:
            return None
        return self.root.data[self.offset:self.offset + self.numel]


class LazyTensor:
    """What ``torch._utils._rebuild_tensor_v2`` returns here: materialized after storages load."""

    def __init__(self, storage, offset, size, stride):
        self.storage = storage
        self.offset = int(offset)
        self.size = tuple(int(s) for s in size)
        self.stride = tuple(int(s) for s in stride)

    def materialize(self, where):
        flat = self.storage.data
        if flat is None:
            raise ReaderError(f"{where}: a tensor refers to a storage whose bytes were never read")
        count = 1
        for s in self.size:
            count *= s
        if count:
            last = self.offset + sum((n - 1) * st for n, st in zip(self.size, self.stride))
            if self.offset < 0 or last >= flat.shape[0]:
                raise ReaderError(
                    f"{where}: tensor of shape {self.size} at offset {self.offset} "
                    f"reaches past its storage of {flat.shape[0]} elements")
        itemsize = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset:] if count else flat[:0],
            shape=self.size,
            strides=tuple(st * itemsize for st in self.stride),
            writeable=False,
        )
        array = np.array(view, copy=True, order="C")
        if self.storage.storage_type.bfloat16:
            array = (array.astype(np.uint32) << 16).view(np.float32)
        return array


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    return LazyTensor(storage, storage_offset, size, stride)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return LazyTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    return data


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return data


def _rebuild_from_type_v2(func, new_type, args, state):
    # Tensor subclasses (nn.Parameter and the like) are plain tensors here.
    return func(*args)


class _Placeholder:
    """Stand-in for a harmless class (torch.Size, torch.device ...): keeps its arguments."""

    def __init__(self, *args, **kwargs):
        self.args = args

    def __setstate__(self, state):
        self.state = state


class _Module:
    """Stand-in for a pickled ``nn.Module``: keeps its ``__dict__`` so parameters can be found."""

    def __setstate__(self, state):
        self.__dict__.update(state if isinstance(state, dict) else {"state": state})


def _torch_size(*args):
    return tuple(args[0]) if len(args) == 1 else tuple(args)


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch", "Size"): _torch_size,
    ("torch", "device"): _Placeholder,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
    ("builtins", "complex"): complex,
    ("__builtin__", "set"): set,
    ("_codecs", "encode"): codecs.encode,  # how protocol-2 pickles spell bytes
}


class TorchUnpickler(pickle.Unpickler):
    """Unpickles a PyTorch object graph into stand-ins; refuses anything it does not know.

    ``persistent_load`` is supplied by the format-specific reader.
    """

    def __init__(self, file, where, persistent_load):
        super().__init__(file, encoding="latin1")
        self.where = where
        self._persistent = persistent_load

    def find_class(self, module, name):
        if module == "torch" and name.endswith("Storage") and name in STORAGE_DTYPES:
            return StorageType(name)
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module.startswith("torch.nn.") and name[:1].isupper():
            return _Module  # a whole pickled module: its parameters are still found
        raise ReaderError(f"{self.where}: the pickle refers to {module}.{name}, "
                          "which a weights file should not need")

    def persistent_load(self, pid):
        return self._persistent(pid)


def tensor_dict(obj, where):
    """Finds the state dict inside an unpickled object and materializes its tensors."""
    state = _find_state_dict(obj)
    if state is None:
        raise ReaderError(f"{where}: found no state dict (a mapping of names to tensors)")
    out = collections.OrderedDict()
    for name, value in _flatten(state, ""):
        out[name] = value.materialize(f"{where}: {name}")
    if not out:
        raise ReaderError(f"{where}: the state dict holds no tensors")
    return out


def _is_state_dict(obj):
    return isinstance(obj, dict) and obj and all(isinstance(k, str) for k in obj) and \
        any(isinstance(v, LazyTensor) for v in obj.values())


def _find_state_dict(obj):
    if _is_state_dict(obj):
        return obj
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model", "net", "params"):
            inner = obj.get(key)
            if isinstance(inner, _Module):
                inner = _module_state(inner)
            if _is_state_dict(inner):
                return inner
    if isinstance(obj, _Module):
        return _module_state(obj)
    return None


def _module_state(module, prefix=""):
    """Parameters and buffers of a pickled nn.Module, named as ``state_dict()`` would."""
    out = collections.OrderedDict()
    d = module.__dict__
    for group in ("_parameters", "_buffers"):
        for k, v in (d.get(group) or {}).items():
            if isinstance(v, LazyTensor):
                out[prefix + k] = v
    for k, child in (d.get("_modules") or {}).items():
        if isinstance(child, _Module):
            out.update(_module_state(child, prefix + k + "."))
    return out


def _flatten(state, prefix):
    for k, v in state.items():
        if isinstance(v, LazyTensor):
            yield prefix + k, v
        elif isinstance(v, dict):
            yield from _flatten(v, prefix + k + ".")
        # other values (metadata, version numbers) are not tensors


def check_count(where, key, expected, actual):
    if expected != actual:
        raise ReaderError(f"{where}: storage {key} should hold {expected} elements, found {actual}")
