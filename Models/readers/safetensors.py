"""The safetensors container: read and write, numpy only.

Layout: an 8-byte little-endian header length N, N bytes of JSON (padded with spaces so the
data starts on an 8-byte boundary), then the tensors' bytes back to back. Each header entry
is ``{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}`` with offsets relative
to the start of the data; ``__metadata__`` is a string-to-string map.

The writer orders tensors by element size (largest first, checkpoint order otherwise), so
with no gaps between tensors every tensor still starts at a multiple of its element size.
"""

import collections
import json
import os

import numpy as np

from .common import ReaderError

DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_CODES = {v: k for k, v in DTYPES.items()}


def write(path, tensors, metadata=None):
    """Writes ``{name: numpy.ndarray}`` to ``path`` atomically (temporary file, then rename)."""
    entries = []
    for index, (name, array) in enumerate(tensors.items()):
        array = np.ascontiguousarray(array)
        dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        code = _CODES.get(np.dtype(dtype).newbyteorder("<") if dtype.itemsize > 1 else dtype)
        if code is None:
            raise ReaderError(f"{path}: tensor {name} has unsupported dtype {array.dtype}")
        entries.append((-array.dtype.itemsize, index, name, code, array.astype(DTYPES[code], copy=False)))
    entries.sort(key=lambda e: (e[0], e[1]))

    header = collections.OrderedDict()
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    for _, _, name, code, array in entries:
        header[name] = {"dtype": code, "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)

    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for _, _, _, _, array in entries:
            f.write(array.tobytes(order="C"))
    os.replace(tmp, path)


def read_header(path):
    """Returns the parsed JSON header (with ``__metadata__`` if present) and the data offset."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise ReaderError(f"{path}: too short for a safetensors file")
        n = int.from_bytes(head, "little")
        if n > 100 * 1024 * 1024:
            raise ReaderError(f"{path}: header length {n} is not plausible")
        text = f.read(n)
        if len(text) != n:
            raise ReaderError(f"{path}: file ends inside the header")
    try:
        header = json.loads(text, object_pairs_hook=collections.OrderedDict)
    except ValueError as error:
        raise ReaderError(f"{path}: header is not JSON ({error})") from None
    return header, 8 + n


def read(path):
    """Returns ``{name: numpy.ndarray}`` in file order."""
    header, start = read_header(path)
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=start) \
        if os.path.getsize(path) > start else np.zeros(0, np.uint8)
    out = collections.OrderedDict()
    entries = [(k, v) for k, v in header.items() if k != "__metadata__"]
    entries.sort(key=lambda kv: kv[1]["data_offsets"][0])
    expected = 0
    for name, info in entries:
        dtype = DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise ReaderError(f"{path}: tensor {name} has unsupported dtype {info.get('dtype')}")
        begin, end = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64))
        if begin != expected or end - begin != count * dtype.itemsize or end > data.shape[0]:
            raise ReaderError(f"{path}: tensor {name} has inconsistent data offsets {begin}..{end}")
        expected = end
        out[name] = np.array(data[begin:end].view(dtype).reshape(info["shape"]))
    if expected != data.shape[0]:
        raise ReaderError(f"{path}: {data.shape[0] - expected} bytes after the last tensor")
    return out


def metadata(path):
    header, _ = read_header(path)
    return dict(header.get("__metadata__") or {})
