"""Reader for TensorFlow 1 checkpoints (the V2 "tensor bundle" of ``tf.train.Saver``), numpy only.

A checkpoint with prefix P is ``P.index`` plus data shards ``P.data-SSSSS-of-NNNNN``.

``P.index`` is a LevelDB-style sorted table (SSTable):

- blocks of entries, each entry ``varint shared, varint non_shared, varint value_length,
  key[shared:] bytes, value bytes`` (keys are prefix-compressed against the previous key;
  every ``restart`` entries the key is stored whole), followed by the restart offsets
  (uint32 each) and their count (uint32); every block is followed by a 5-byte trailer:
  compression type (0 none, 1 Snappy) and the masked CRC-32C of block + type byte
- a 48-byte footer: the metaindex and index block handles (varint offset, varint size),
  zero padding to 40 bytes, and the magic number 0xdb4775248b80fb57 (little-endian)
- the index block maps the last key of each data block to that block's handle

The data blocks map each tensor name to a serialized ``BundleEntryProto`` (dtype = 1,
shape = 2 (a ``TensorShapeProto`` with repeated ``dim`` = 2, each ``size`` = 1), shard_id = 3,
offset = 4, size = 5, crc32c = 6 (fixed32, masked), slices = 7); the empty key holds the
``BundleHeaderProto`` (num_shards = 1, endianness = 2). A tensor's bytes are
``size`` bytes at ``offset`` of shard ``shard_id``, in C order.
"""

import collections
import os
import re
import struct

import numpy as np

from .common import ReaderError

MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER = 5

# tensorflow/core/framework/types.proto
DTYPES = {
    1: np.dtype("<f4"),   # DT_FLOAT
    2: np.dtype("<f8"),   # DT_DOUBLE
    3: np.dtype("<i4"),   # DT_INT32
    4: np.dtype("u1"),    # DT_UINT8
    5: np.dtype("<i2"),   # DT_INT16
    6: np.dtype("i1"),    # DT_INT8
    9: np.dtype("<i8"),   # DT_INT64
    10: np.dtype("?"),    # DT_BOOL
    17: np.dtype("<u2"),  # DT_UINT16
    19: np.dtype("<f2"),  # DT_HALF
    22: np.dtype("<u4"),  # DT_UINT32
    23: np.dtype("<u8"),  # DT_UINT64
}
DTYPE_NAMES = {7: "DT_STRING", 8: "DT_COMPLEX64", 14: "DT_BFLOAT16", 21: "DT_VARIANT"}

_DATA_SUFFIX = re.compile(r"\.data-\d{5}-of-\d{5}$")


# ---------------------------------------------------------------- CRC-32C (Castagnoli)

def _crc_tables():
    poly = 0x82F63B78
    first = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (poly if c & 1 else 0)
        first.append(c)
    tables = [first]
    for _ in range(7):
        prev = tables[-1]
        tables.append([(prev[i] >> 8) ^ first[prev[i] & 0xFF] for i in range(256)])
    return tables


_TABLES = None


def crc32c(data, crc=0):
    """CRC-32C of ``data`` (slicing-by-8, pure Python)."""
    global _TABLES
    if _TABLES is None:
        _TABLES = _crc_tables()
    t0, t1, t2, t3, t4, t5, t6, t7 = _TABLES
    data = memoryview(data).cast("B")
    crc ^= 0xFFFFFFFF
    n = len(data) - len(data) % 8
    if n:
        words = np.frombuffer(data[:n], dtype="<u8").tolist()
        for w in words:
            lo = (w & 0xFFFFFFFF) ^ crc
            hi = w >> 32
            crc = (t7[lo & 0xFF] ^ t6[(lo >> 8) & 0xFF] ^ t5[(lo >> 16) & 0xFF] ^ t4[lo >> 24] ^
                   t3[hi & 0xFF] ^ t2[(hi >> 8) & 0xFF] ^ t1[(hi >> 16) & 0xFF] ^ t0[hi >> 24])
    for b in data[n:]:
        crc = t0[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def unmask(masked):
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


# ---------------------------------------------------------------- protobuf and varints

def _varint(buf, pos, where):
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ReaderError(f"{where}: truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ReaderError(f"{where}: varint longer than 10 bytes")


def _fields(buf, where):
    """Yields (field number, wire type, value) of a serialized protobuf message.

    Varints come as int, fixed32/fixed64 as int, length-delimited fields as bytes.
    """
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos, where)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos, where)
        elif wire == 1:
            if pos + 8 > len(buf):
                raise ReaderError(f"{where}: truncated fixed64 field {number}")
            value = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wire == 2:
            length, pos = _varint(buf, pos, where)
            if pos + length > len(buf):
                raise ReaderError(f"{where}: truncated field {number}")
            value = bytes(buf[pos:pos + length])
            pos += length
        elif wire == 5:
            if pos + 4 > len(buf):
                raise ReaderError(f"{where}: truncated fixed32 field {number}")
            value = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise ReaderError(f"{where}: unsupported protobuf wire type {wire} (field {number})")
        yield number, wire, value


def _signed64(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def _shape(buf, where):
    dims = []
    for number, wire, value in _fields(buf, where):
        if number == 2 and wire == 2:  # Dim
            size = 0
            for n, w, v in _fields(value, where):
                if n == 1 and w == 0:
                    size = _signed64(v)
            dims.append(size)
        elif number == 3 and wire == 0 and value:
            raise ReaderError(f"{where}: shape of unknown rank")
    if any(d < 0 for d in dims):
        raise ReaderError(f"{where}: shape {dims} has an unknown dimension")
    return tuple(dims)


def _entry(buf, where):
    entry = {"dtype": 0, "shape": (), "shard_id": 0, "offset": 0, "size": 0, "crc32c": None}
    for number, wire, value in _fields(buf, where):
        if number == 1 and wire == 0:
            entry["dtype"] = value
        elif number == 2 and wire == 2:
            entry["shape"] = _shape(value, where)
        elif number == 3 and wire == 0:
            entry["shard_id"] = value
        elif number == 4 and wire == 0:
            entry["offset"] = _signed64(value)
        elif number == 5 and wire == 0:
            entry["size"] = _signed64(value)
        elif number == 6 and wire == 5:
            entry["crc32c"] = value
        elif number == 7:
            raise ReaderError(f"{where}: partitioned (sliced) variables are not supported")
    return entry


def _header(buf, where):
    header = {"num_shards": 0, "endianness": 0}
    for number, wire, value in _fields(buf, where):
        if number == 1 and wire == 0:
            header["num_shards"] = value
        elif number == 2 and wire == 0:
            header["endianness"] = value
    return header


# ---------------------------------------------------------------- Snappy (raw format)

def snappy_decompress(buf, where):
    length, pos = _varint(buf, 0, where)
    out = bytearray()
    while pos < len(buf):
        tag = buf[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:  # literal
            n = tag >> 2
            if n >= 60:
                extra = n - 59
                n = int.from_bytes(buf[pos:pos + extra], "little")
                pos += extra
            n += 1
            if pos + n > len(buf):
                raise ReaderError(f"{where}: truncated Snappy literal")
            out += buf[pos:pos + n]
            pos += n
            continue
        if kind == 1:
            n = 4 + ((tag >> 2) & 7)
            offset = ((tag >> 5) << 8) | buf[pos]
            pos += 1
        elif kind == 2:
            n = 1 + (tag >> 2)
            offset = int.from_bytes(buf[pos:pos + 2], "little")
            pos += 2
        else:
            n = 1 + (tag >> 2)
            offset = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
        if offset == 0 or offset > len(out):
            raise ReaderError(f"{where}: bad Snappy copy offset {offset}")
        start = len(out) - offset
        for i in range(n):  # copies may overlap their own output
            out.append(out[start + i])
    if len(out) != length:
        raise ReaderError(f"{where}: Snappy block holds {len(out)} bytes, expected {length}")
    return bytes(out)


# ---------------------------------------------------------------- the sorted table

def _block(data, handle, where):
    offset, size = handle
    if offset < 0 or offset + size + BLOCK_TRAILER > len(data):
        raise ReaderError(f"{where}: block {offset}+{size} lies outside the file")
    raw = data[offset:offset + size]
    kind = data[offset + size]
    stored = struct.unpack_from("<I", data, offset + size + 1)[0]
    if crc32c(data[offset:offset + size + 1]) != unmask(stored):
        raise ReaderError(f"{where}: block at offset {offset} fails its CRC-32C check")
    if kind == 0:
        return bytes(raw)
    if kind == 1:
        return snappy_decompress(raw, where)
    raise ReaderError(f"{where}: block at offset {offset} has unknown compression type {kind}")


def _block_entries(block, where):
    if len(block) < 4:
        raise ReaderError(f"{where}: block of {len(block)} bytes")
    restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    limit = len(block) - 4 - 4 * restarts
    if limit < 0:
        raise ReaderError(f"{where}: block claims {restarts} restart points")
    pos, key = 0, b""
    while pos < limit:
        shared, pos = _varint(block, pos, where)
        non_shared, pos = _varint(block, pos, where)
        length, pos = _varint(block, pos, where)
        if shared > len(key) or pos + non_shared + length > limit:
            raise ReaderError(f"{where}: corrupt block entry at {pos}")
        key = key[:shared] + block[pos:pos + non_shared]
        pos += non_shared
        yield key, block[pos:pos + length]
        pos += length


def _handle(buf, pos, where):
    offset, pos = _varint(buf, pos, where)
    size, pos = _varint(buf, pos, where)
    return (offset, size), pos


def table_entries(path):
    """Yields (key bytes, value bytes) of an SSTable file in key order."""
    where = str(path)
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < FOOTER_SIZE:
        raise ReaderError(f"{where}: too short for a checkpoint index ({len(data)} bytes)")
    footer = data[-FOOTER_SIZE:]
    if struct.unpack_from("<Q", footer, 40)[0] != MAGIC:
        raise ReaderError(f"{where}: not a checkpoint index (bad table magic number)")
    _metaindex, pos = _handle(footer, 0, where)
    index, _ = _handle(footer, pos, where)
    for _, value in _block_entries(_block(data, index, where), where):
        handle, _ = _handle(value, 0, where)
        yield from _block_entries(_block(data, handle, where), where)


# ---------------------------------------------------------------- the bundle

def prefix_of(path):
    """The checkpoint prefix of ``P``, ``P.index`` or ``P.data-…``."""
    path = str(path)
    if path.endswith(".index"):
        return path[: -len(".index")]
    match = _DATA_SUFFIX.search(path)
    return path[: match.start()] if match else path


def entries(path):
    """Returns the header and ``{name: entry dict}`` of the checkpoint's index, in key order."""
    index = prefix_of(path) + ".index"
    if not os.path.exists(index):
        raise ReaderError(f"{index}: the checkpoint index is missing")
    header, out = None, collections.OrderedDict()
    for key, value in table_entries(index):
        if key == b"":
            header = _header(value, index)
            continue
        name = key.decode("utf-8")
        out[name] = _entry(value, f"{index}: {name}")
    if header is None:
        raise ReaderError(f"{index}: no bundle header (the empty key) in the index")
    if header["endianness"] != 0:
        raise ReaderError(f"{index}: big-endian checkpoints are not supported")
    return header, out


def read(path, verify=True):
    """Returns ``{variable name: numpy.ndarray}`` of the checkpoint ``path`` belongs to.

    Every variable of the index is returned (optimizer slots included), in key order.
    With ``verify`` each tensor's bytes are checked against its CRC-32C.
    """
    prefix = prefix_of(path)
    header, table = entries(path)
    shards = header["num_shards"] or 1
    mapped = {}
    out = collections.OrderedDict()
    for name, entry in table.items():
        where = f"{prefix}: {name}"
        dtype = DTYPES.get(entry["dtype"])
        if dtype is None:
            kind = DTYPE_NAMES.get(entry["dtype"], f"dtype {entry['dtype']}")
            raise ReaderError(f"{where}: {kind} tensors are not supported")
        shard = entry["shard_id"]
        if not 0 <= shard < shards:
            raise ReaderError(f"{where}: shard {shard} of {shards}")
        if shard not in mapped:
            file = f"{prefix}.data-{shard:05d}-of-{shards:05d}"
            if not os.path.exists(file):
                raise ReaderError(f"{file}: the checkpoint data shard is missing")
            mapped[shard] = np.memmap(file, dtype=np.uint8, mode="r") \
                if os.path.getsize(file) else np.zeros(0, np.uint8)
        data = mapped[shard]
        count = int(np.prod(entry["shape"], dtype=np.int64))
        begin, size = entry["offset"], entry["size"]
        if size != count * dtype.itemsize:
            raise ReaderError(f"{where}: {size} bytes for shape {list(entry['shape'])} of {dtype}")
        if begin < 0 or begin + size > data.shape[0]:
            raise ReaderError(f"{where}: bytes {begin}..{begin + size} lie outside the data shard")
        raw = np.array(data[begin:begin + size])
        if verify and entry["crc32c"] is not None and crc32c(raw) != unmask(entry["crc32c"]):
            raise ReaderError(f"{where}: the tensor's bytes fail their CRC-32C check")
        out[name] = raw.view(dtype).reshape(entry["shape"])
    if not out:
        raise ReaderError(f"{prefix}.index: the checkpoint holds no tensors")
    return out
