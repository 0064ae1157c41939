"""Checkpoint readers and writers for Models/convert.py.

Every reader turns one checkpoint format into an ordered ``{name: numpy.ndarray}``
mapping without importing the framework that wrote it:

- ``torch_legacy``  PyTorch's legacy serialization (``_use_new_zipfile_serialization=False``)
- ``torch_zip``     PyTorch's zip serialization (the default since 1.6)
- ``safetensors``   the safetensors container (read and write)

Readers for HDF5 (Keras) and TensorFlow 1 checkpoints live beside these as their own
modules and expose the same ``read(path) -> dict`` function.
"""

from .common import ReaderError

READERS = {
    "torch-legacy": "torch_legacy",
    "torch-zip": "torch_zip",
    "safetensors": "safetensors",
}


def reader_for(source_format):
    """Returns the reader module for a manifest ``format`` value."""
    import importlib

    module = READERS.get(source_format)
    if module is None:
        raise ReaderError(f"no reader for source format '{source_format}' yet")
    return importlib.import_module(f"{__name__}.{module}")
