"""Reader for PyTorch's legacy serialization (``torch.save(..., _use_new_zipfile_serialization=False)``).

Layout of such a file, all in one stream:

1. pickle: the magic number 0x1950a86a20f9469cfc6c
2. pickle: the protocol version (1001)
3. pickle: ``sys_info`` (endianness and the sizes of C types on the writing machine)
4. pickle: the object itself; tensors appear as ``torch._utils._rebuild_tensor_v2(storage,
   offset, size, stride, requires_grad, backward_hooks)`` whose storage is a persistent id
   ``('storage', storage_type, key, location, numel, view_metadata)``
5. pickle: the list of storage keys, in the order their bytes follow
6. per storage: an 8-byte little-endian element count, then the raw elements
"""

import pickle

import numpy as np

from .common import (ReaderError, Storage, StorageType, StorageView, TorchUnpickler,
                     check_count, tensor_dict)

MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
PROTOCOL_VERSION = 1001


def is_legacy(path):
    with open(path, "rb") as f:
        head = f.read(2)
    return head[:1] == b"\x80"  # a pickle, not a zip archive ("PK")


def read(path):
    """Returns ``{name: numpy.ndarray}`` for the state dict stored in ``path``."""
    where = str(path)
    with open(path, "rb") as f:
        try:
            magic = pickle.load(f)
        except Exception as error:
            raise ReaderError(f"{where}: not a legacy PyTorch file ({error})") from None
        if magic != MAGIC_NUMBER:
            raise ReaderError(f"{where}: not a legacy PyTorch file (bad magic number)")
        protocol = pickle.load(f)
        if protocol != PROTOCOL_VERSION:
            raise ReaderError(f"{where}: unsupported legacy protocol version {protocol}")
        sys_info = pickle.load(f)
        little_endian = True
        if isinstance(sys_info, dict):
            little_endian = bool(sys_info.get("little_endian", True))

        storages = {}

        def persistent_load(pid):
            if not isinstance(pid, tuple) or not pid:
                raise ReaderError(f"{where}: unexpected persistent id {pid!r}")
            if pid[0] == "module":
                raise ReaderError(f"{where}: holds a whole pickled module class, not a state dict")
            if pid[0] != "storage" or len(pid) != 6:
                raise ReaderError(f"{where}: unexpected persistent id {pid[:1]!r}")
            _, storage_type, key, _location, numel, view_metadata = pid
            if not isinstance(storage_type, StorageType):
                raise ReaderError(f"{where}: storage {key} has unknown type {storage_type!r}")
            root = storages.get(key)
            if root is None:
                root = storages[key] = Storage(storage_type, key, int(numel))
            if view_metadata is not None:
                _view_key, offset, view_numel = view_metadata
                return StorageView(root, int(offset), int(view_numel))
            return root

        obj = TorchUnpickler(f, where, persistent_load).load()
        keys = pickle.load(f)
        for key in keys:
            storage = storages.get(key)
            if storage is None:
                raise ReaderError(f"{where}: storage {key} is listed but never used")
            header = f.read(8)
            if len(header) != 8:
                raise ReaderError(f"{where}: file ends before storage {key}")
            count = int.from_bytes(header, "little" if little_endian else "big")
            check_count(where, key, storage.numel, count)
            dtype = storage.dtype if little_endian else storage.dtype.newbyteorder(">")
            raw = f.read(count * dtype.itemsize)
            if len(raw) != count * dtype.itemsize:
                raise ReaderError(f"{where}: file ends inside storage {key}")
            storage.data = np.frombuffer(raw, dtype=dtype).astype(storage.dtype, copy=False)
        missing = [k for k, s in storages.items() if s.data is None]
        if missing:
            raise ReaderError(f"{where}: storages {missing[:5]} have no data")
    return tensor_dict(obj, where)
