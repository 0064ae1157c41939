"""Checkpoint readers and writers for Models/convert.py.

Every reader turns one checkpoint format into an ordered ``{name: numpy.ndarray}``
mapping without importing the framework that wrote it:

- ``torch_legacy``  PyTorch's legacy serialization (``_use_new_zipfile_serialization=False``)
- ``torch_zip``     PyTorch's zip serialization (the default since 1.6)
- ``safetensors``   the safetensors container (read and write)
- ``tf_checkpoint`` TensorFlow 1 checkpoints (``tf.train.Saver``'s tensor bundle)
- ``hdf5``          Keras HDF5 model and weight files (through h5py)
"""

from .common import ReaderError

READERS = {
    "torch-legacy": "torch_legacy",
    "torch-zip": "torch_zip",
    "safetensors": "safetensors",
    "tf1-checkpoint": "tf_checkpoint",
    "hdf5": "hdf5",
}


def reader_for(source_format):
    """Returns the reader module for a manifest ``format`` value."""
    import importlib

    module = READERS.get(source_format)
    if module is None:
        raise ReaderError(f"no reader for source format '{source_format}' yet")
    return importlib.import_module(f"{__name__}.{module}")
