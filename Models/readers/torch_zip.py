"""Reader for PyTorch's zip serialization (the default of ``torch.save`` since 1.6).

The archive has one top folder (``archive/`` or the file's stem) holding:

- ``data.pkl``: the object; tensors appear as ``torch._utils._rebuild_tensor_v2(...)`` whose
  storage is a persistent id ``('storage', storage_type, key, location, numel)``
- ``data/<key>``: the raw bytes of each storage
- ``byteorder`` (optional): ``little`` or ``big``
"""

import zipfile

import numpy as np

from .common import ReaderError, Storage, StorageType, TorchUnpickler, check_count, tensor_dict


def read(path):
    """Returns ``{name: numpy.ndarray}`` for the state dict stored in ``path``."""
    where = str(path)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ReaderError(f"{where}: not a zip archive") from None
    with archive:
        names = archive.namelist()
        pkl = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pkl) != 1:
            raise ReaderError(f"{where}: expected one <folder>/data.pkl, found {len(pkl)}")
        prefix = pkl[0][: -len("data.pkl")]
        byteorder = "little"
        if prefix + "byteorder" in names:
            byteorder = archive.read(prefix + "byteorder").decode("ascii").strip()
            if byteorder not in ("little", "big"):
                raise ReaderError(f"{where}: unknown byteorder record '{byteorder}'")

        storages = {}

        def persistent_load(pid):
            if not isinstance(pid, tuple) or len(pid) != 5 or pid[0] != "storage":
                raise ReaderError(f"{where}: unexpected persistent id {pid!r}")
            _, storage_type, key, _location, numel = pid
            if not isinstance(storage_type, StorageType):
                raise ReaderError(f"{where}: storage {key} has unknown type {storage_type!r}")
            storage = storages.get(key)
            if storage is None:
                storage = storages[key] = Storage(storage_type, key, int(numel))
                record = f"{prefix}data/{key}"
                if record not in names:
                    raise ReaderError(f"{where}: storage record {record} is missing")
                raw = archive.read(record)
                dtype = storage.dtype
                if byteorder == "big":
                    dtype = dtype.newbyteorder(">")
                if len(raw) % dtype.itemsize:
                    raise ReaderError(f"{where}: storage {key} has {len(raw)} bytes, "
                                      f"not a multiple of {dtype.itemsize}")
                check_count(where, key, storage.numel, len(raw) // dtype.itemsize)
                storage.data = np.frombuffer(raw, dtype=dtype).astype(storage.dtype, copy=False)
            return storage

        with archive.open(pkl[0]) as f:
            obj = TorchUnpickler(f, where, persistent_load).load()
    return tensor_dict(obj, where)
