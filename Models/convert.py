#!/usr/bin/env python3
"""Fetches the pinned pretrained networks of Models/manifest.json and converts them to safetensors.

Needs python3 and numpy only (and h5py for the Keras HDF5 file): the checkpoint formats are
read by Models/readers/ without PyTorch or TensorFlow. When h5py cannot be imported, the pinned
h5py wheel of the manifest is downloaded (sha256-checked) and unpacked into
Models/downloads/python/, which is then put on the import path.

    python3 Models/convert.py all              fetch + convert everything implemented, then verify
    python3 Models/convert.py fetch [NAME...]  download the packages, check and extract the sources
    python3 Models/convert.py convert [NAME...]
    python3 Models/convert.py labels           the label files (imagenet, emotion, musicnn_mtt)
    python3 Models/convert.py verify           check Models/converted/ against Models/converted.sha256
    python3 Models/convert.py record           rewrite Models/converted.sha256 from the current outputs
    python3 Models/convert.py list             what the manifest holds and what is converted

NAME is a model name of the manifest (efficientnet_lite0, transnetv2, mtcnn_pnet, ...) or
'mtcnn' for its three stages. Every step is idempotent: archives, extracted files and
outputs whose checksums already match are left alone.

Outputs: Models/converted/<name>.safetensors (float32, the checkpoint's tensor names;
PyTorch 'num_batches_tracked' counters and TensorFlow optimizer state dropped) and
Models/<name>.tensors.txt (names and shapes). A model whose source already is safetensors
('convert': 'copy') is copied unchanged, with its extra files ('extra_outputs').
"""

import argparse
import ast
import collections
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from readers import ReaderError, reader_for  # noqa: E402
from readers import safetensors  # noqa: E402

MANIFEST = os.path.join(HERE, "manifest.json")
DOWNLOADS = os.path.join(HERE, "downloads")
EXTRACTED = os.path.join(DOWNLOADS, "extracted")
CONVERTED = os.path.join(HERE, "converted")
CHECKSUMS = os.path.join(HERE, "converted.sha256")
PYLIB = os.path.join(DOWNLOADS, "python")
GROUPS = {"mtcnn": ["mtcnn_pnet", "mtcnn_rnet", "mtcnn_onet"]}
# Training state, not weights: PyTorch's BatchNorm step counters; TensorFlow's Adam moments
# (<variable>/Adam, <variable>/Adam_1), Adam's beta power accumulators and the step counter.
COUNTER_SUFFIXES = ("num_batches_tracked",)
OPTIMIZER_SUFFIXES = ("/Adam", "/Adam_1")
OPTIMIZER_NAMES = ("beta1_power", "beta2_power", "global_step")


class ConvertError(Exception):
    pass


def log(message):
    print(message, flush=True)


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def rel(path):
    return os.path.relpath(path, os.path.dirname(HERE))


def load_manifest():
    with open(MANIFEST, encoding="utf-8") as f:
        return json.load(f, object_pairs_hook=collections.OrderedDict)


def implemented(model):
    return model.get("status") == "converted"


def select(manifest, names, default_implemented=True):
    models = collections.OrderedDict((m["name"], m) for m in manifest["models"])
    if not names:
        return [m for m in models.values() if implemented(m) or not default_implemented]
    chosen = []
    for name in names:
        for n in GROUPS.get(name, [name]):
            if n not in models:
                raise ConvertError(f"'{n}' is not a model of {rel(MANIFEST)}; "
                                   f"known: {', '.join(list(models) + list(GROUPS))}")
            if models[n] not in chosen:
                chosen.append(models[n])
    return chosen


# ---------------------------------------------------------------- fetching

def package_key(entry):
    return f"{entry['package']}=={entry['version']}"


def fetch_archive(manifest, key):
    """Downloads one pinned package with pip (no dependencies) and checks its sha256."""
    info = manifest["packages"].get(key)
    if info is None:
        raise ConvertError(f"{rel(MANIFEST)} has no 'packages' entry for {key}")
    path = os.path.join(DOWNLOADS, info["archive"])
    want = info.get("archive_sha256")
    if os.path.exists(path):
        if want and sha256_file(path) == want:
            return path
        os.remove(path)  # stale or damaged: download it again
    os.makedirs(DOWNLOADS, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--quiet", "-d", DOWNLOADS] + list(info.get("pip_options", [])) + [key]
    log(f"fetch: {key}")
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise ConvertError(f"pip could not download {key}:\n{result.stdout.strip()}")
    if not os.path.exists(path):
        raise ConvertError(f"pip downloaded {key} but {rel(path)} is not there "
                           f"(the index served another file name; see {rel(DOWNLOADS)})")
    got = sha256_file(path)
    if want and got != want:
        raise ConvertError(f"{rel(path)}: sha256 is {got}, the manifest expects {want}")
    if not want:
        log(f"fetch: {info['archive']} sha256 {got} (not yet recorded in the manifest)")
    return path


def extract(archive, member, want_sha256, key):
    """Extracts one file of a wheel or sdist and checks its sha256."""
    out = os.path.join(EXTRACTED, key.replace("==", "-"), member)
    if os.path.exists(out) and want_sha256 and sha256_file(out) == want_sha256:
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = f"{out}.tmp-{os.getpid()}"
    if archive.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as z:
            try:
                with z.open(member) as src, open(tmp, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
            except KeyError:
                raise ConvertError(f"{rel(archive)} has no file {member}") from None
    else:
        with tarfile.open(archive) as t:
            names = [n for n in t.getnames() if n == member or n.endswith("/" + member)]
            if not names:
                raise ConvertError(f"{rel(archive)} has no file {member}")
            src = t.extractfile(names[0])
            with open(tmp, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
    got = sha256_file(tmp)
    if want_sha256 and got != want_sha256:
        os.remove(tmp)
        raise ConvertError(f"{member} from {rel(archive)}: sha256 is {got}, "
                           f"the manifest expects {want_sha256}")
    os.replace(tmp, out)
    return out


def source_files(model):
    files = model.get("files")
    if files:
        return list(files.items())
    return [(model["file"], model.get("sha256"))]


def fetch_model(manifest, model):
    key = package_key(model)
    archive = fetch_archive(manifest, key)
    paths = {}
    for member, want in source_files(model):
        paths[member] = extract(archive, member, want, key)
    return paths[model["file"]]


def label_entries(manifest):
    return manifest.get("labels", [])


def fetch_labels_source(manifest, entry):
    key = package_key(entry)
    archive = fetch_archive(manifest, key)
    return extract(archive, entry["file"], entry.get("sha256"), key)


# ---------------------------------------------------------------- converting

def is_optimizer_state(name):
    return name.endswith(OPTIMIZER_SUFFIXES) or name in OPTIMIZER_NAMES


def prepare_tensors(raw, where):
    """Drops step counters and optimizer state, brings floating tensors to float32.

    Returns the tensors and the names of the optimizer tensors that were dropped.
    """
    out = collections.OrderedDict()
    dropped = []
    for name, array in raw.items():
        if name.endswith(COUNTER_SUFFIXES):
            continue
        if is_optimizer_state(name):
            dropped.append(name)
            continue
        if array.dtype.kind == "f" and array.dtype != np.float32:
            array = array.astype(np.float32)
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise ConvertError(f"{where}: tensor {name} holds NaN or infinite values")
        out[name] = np.ascontiguousarray(array)
    return out, dropped


def describe_dropped(dropped):
    """One line naming the dropped optimizer tensors by kind."""
    slots = [n for n in dropped if n.endswith(OPTIMIZER_SUFFIXES)]
    others = [n for n in dropped if n not in slots]
    parts = []
    if slots:
        parts.append(f"{len(slots)} Adam moments (<variable>/Adam, <variable>/Adam_1)")
    if others:
        parts.append(", ".join(others))
    return f"{len(dropped)} optimizer tensors: " + "; ".join(parts)


def recorded_checksums():
    sums = {}
    if os.path.exists(CHECKSUMS):
        with open(CHECKSUMS, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                digest, name = line.split(None, 1)
                sums[name.lstrip("*")] = digest
    return sums


def output_is_current(model, out):
    if not os.path.exists(out):
        return False
    try:
        meta = safetensors.metadata(out)
    except ReaderError:
        return False
    if meta.get("source_sha256") != model.get("sha256"):
        return False
    want = recorded_checksums().get(os.path.basename(out))
    return want is None or sha256_file(out) == want


def write_listing(model, tensors, notes=()):
    path = os.path.join(HERE, f"{model['name']}.tensors.txt")
    total = sum(int(a.size) for a in tensors.values())
    lines = [
        f"# {model['name']}: {len(tensors)} tensors, {total} values "
        f"(Models/converted/{model['output']}; generated by Models/convert.py)",
        f"# source: {package_key(model)} {model['file']} ({model['format']})",
    ] + [f"# {note}" for note in notes] + [
        "# name dtype shape",
    ]
    width = max(len(n) for n in tensors)
    codes = {v: k for k, v in safetensors.DTYPES.items()}
    for name, array in tensors.items():
        code = codes.get(array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype,
                         str(array.dtype))
        lines.append(f"{name:<{width}}  {code}  [{', '.join(str(s) for s in array.shape)}]")
    text = "\n".join(lines) + "\n"
    old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
    if old != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def ensure_h5py(manifest):
    """Makes ``import h5py`` work: installed already, or the manifest's pinned wheel unpacked."""
    try:
        import h5py  # noqa: F401
        return
    except ImportError:
        pass
    key = manifest.get("tools", {}).get("h5py")
    info = manifest["packages"].get(key or "")
    if info is None:
        raise ConvertError("h5py is needed for HDF5 files: python3 -m pip install h5py")
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}-"
    if tag not in info["archive"] or not sys.platform.startswith("linux") or \
            os.uname().machine != "x86_64":
        raise ConvertError(f"h5py is needed for HDF5 files and the pinned wheel {info['archive']} "
                           f"does not fit this Python; install it: python3 -m pip install {key}")
    stamp = os.path.join(PYLIB, ".archive_sha256")
    current = open(stamp).read().strip() if os.path.exists(stamp) else None
    if current != info["archive_sha256"]:
        archive = fetch_archive(manifest, key)
        shutil.rmtree(PYLIB, ignore_errors=True)
        tmp = f"{PYLIB}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        with zipfile.ZipFile(archive) as z:
            z.extractall(tmp)
        with open(os.path.join(tmp, ".archive_sha256"), "w") as f:
            f.write(info["archive_sha256"] + "\n")
        os.replace(tmp, PYLIB)
        log(f"h5py: {info['archive']} unpacked into {rel(PYLIB)}")
    sys.path.insert(0, PYLIB)
    try:
        import h5py  # noqa: F401,F811
    except ImportError as error:
        raise ConvertError(f"h5py from {rel(PYLIB)} cannot be imported ({error}); "
                           f"install it: python3 -m pip install {key}") from None


def copy_file(source, out, want_sha256):
    """Copies ``source`` to ``out`` unless ``out`` already has the expected checksum."""
    if os.path.exists(out) and sha256_file(out) == want_sha256:
        return "up to date"
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = f"{out}.tmp-{os.getpid()}"
    shutil.copyfile(source, tmp)
    if sha256_file(tmp) != want_sha256:
        os.remove(tmp)
        raise ConvertError(f"copying {rel(source)} to {rel(out)} changed its checksum")
    os.replace(tmp, out)
    return "written"


def extra_outputs(model):
    """(source member, output name, sha256) of the files copied beside a model's output."""
    files = dict(source_files(model))
    return [(member, name, files.get(member)) for member, name in
            model.get("extra_outputs", {}).items()]


def copy_model(manifest, model):
    """A model already stored as safetensors: the file and its extras are copied unchanged."""
    source = fetch_model(manifest, model)
    out = os.path.join(CONVERTED, model["output"])
    try:
        safetensors.read_header(source)
    except ReaderError as error:
        raise ConvertError(str(error)) from None
    state = copy_file(source, out, model["sha256"])
    key = package_key(model)
    archive = fetch_archive(manifest, key)
    for member, name, want in extra_outputs(model):
        path = extract(archive, member, want, key)
        log(f"{model['name']}: {rel(os.path.join(CONVERTED, name))} "
            f"({copy_file(path, os.path.join(CONVERTED, name), want)})")
    return out, state


def write_config(model, source):
    """Writes the Keras model configuration stored in an HDF5 file to Models/<config_output>."""
    from readers import hdf5

    try:
        config = hdf5.model_config(source)
        attrs = hdf5.attributes(source)
    except ReaderError as error:
        raise ConvertError(str(error)) from None
    document = collections.OrderedDict([
        ("source", f"{package_key(model)} {model['file']} (root attribute model_config; "
                   "generated by Models/convert.py)"),
        ("keras_version", attrs.get("keras_version")),
        ("backend", attrs.get("backend")),
        ("model_config", config),
    ])
    path = os.path.join(HERE, model["config_output"])
    text = json.dumps(document, indent=1) + "\n"
    old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
    if old != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def convert_model(manifest, model):
    out = os.path.join(CONVERTED, model["output"])
    if not implemented(model):
        raise ConvertError(f"{model['name']}: {model.get('status', 'not implemented')}")
    if model.get("convert") == "copy":
        out, state = copy_model(manifest, model)
        tensors = safetensors.read(out)
        write_listing(model, tensors, ["copied unchanged from the package (already safetensors)"])
        total = sum(int(a.size) for a in tensors.values())
        log(f"{model['name']}: {len(tensors)} tensors, {total:,} values -> {rel(out)} ({state})")
        return out
    if model["format"] == "hdf5":
        ensure_h5py(manifest)
    source = fetch_model(manifest, model)
    if output_is_current(model, out):
        tensors = safetensors.read(out)
        dropped_note = safetensors.metadata(out).get("dropped")
        state = "up to date"
    else:
        reader = reader_for(model["format"])
        try:
            tensors, dropped = prepare_tensors(reader.read(source), rel(source))
        except ReaderError as error:
            raise ConvertError(str(error)) from None
        dropped_note = describe_dropped(dropped) if dropped else None
        metadata = collections.OrderedDict([
            ("name", model["name"]),
            ("source_package", model["package"]),
            ("source_version", model["version"]),
            ("source_file", model["file"]),
            ("source_sha256", model["sha256"]),
            ("source_format", model["format"]),
            ("converter", "Models/convert.py"),
        ])
        if dropped_note:
            metadata["dropped"] = dropped_note
        os.makedirs(CONVERTED, exist_ok=True)
        safetensors.write(out, tensors, metadata=metadata)
        tensors = safetensors.read(out)  # what the file holds, in file order
        state = "written"
    if model.get("config_output"):
        write_config(model, source)
    notes = [f"dropped: {dropped_note}"] if dropped_note else []
    if model["format"] == "hdf5":
        from readers import hdf5

        skipped = hdf5.skipped_groups(source)
        if skipped:
            notes.append(f"not read: the file's {', '.join(skipped)} group (training state)")
    write_listing(model, tensors, notes)
    total = sum(int(a.size) for a in tensors.values())
    log(f"{model['name']}: {len(tensors)} tensors, {total:,} parameters "
        f"-> {rel(out)} ({state})")
    return out


def parse_labels(source, entry):
    """The label list of a Python source file, read with ``ast`` (the module is not imported).

    ``variable``: a module-level list assignment; ``function``: a function whose return
    value is a dict literal {index: name} (``Class.method`` names a method).
    """
    with open(source, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=source)
    names = None
    if "variable" in entry:
        what = entry["variable"]
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            if any(isinstance(t, ast.Name) and t.id == what for t in targets):
                names = ast.literal_eval(node.value)
    else:
        what = entry["function"]
        scope = tree
        for part in what.split("."):
            found = [n for n in ast.iter_child_nodes(scope)
                     if isinstance(n, (ast.ClassDef, ast.FunctionDef)) and n.name == part]
            if not found:
                raise ConvertError(f"{rel(source)}: no {what}")
            scope = found[0]
        returns = [n for n in ast.walk(scope) if isinstance(n, ast.Return)]
        if len(returns) == 1:
            try:
                mapping = ast.literal_eval(returns[0].value)
            except ValueError:
                mapping = None
            if isinstance(mapping, dict) and sorted(mapping) == list(range(len(mapping))):
                names = [mapping[i] for i in range(len(mapping))]
    count = entry["count"]
    if not isinstance(names, list) or len(names) != count or \
            not all(isinstance(n, str) and n.strip() and "\n" not in n for n in names):
        raise ConvertError(f"{rel(source)}: {what} is not a list of {count} label names")
    if "values" in entry and names != entry["values"]:
        raise ConvertError(f"{rel(source)}: {what} differs from the labels recorded in "
                           f"{rel(MANIFEST)}: {names}")
    return names


def convert_labels(manifest):
    outputs = []
    for entry in label_entries(manifest):
        out = os.path.join(CONVERTED, entry["output"])
        outputs.append(out)
        want = recorded_checksums().get(entry["output"])
        if os.path.exists(out) and want and sha256_file(out) == want:
            log(f"labels: {rel(out)} (up to date)")
            continue
        names = parse_labels(fetch_labels_source(manifest, entry), entry)
        os.makedirs(CONVERTED, exist_ok=True)
        tmp = f"{out}.tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(names) + "\n")
        os.replace(tmp, out)
        log(f"labels: {entry['name']}: {len(names)} names -> {rel(out)}")
    return outputs


# ---------------------------------------------------------------- checking

def verify():
    sums = recorded_checksums()
    if not sums:
        raise ConvertError(f"{rel(CHECKSUMS)} is missing or empty")
    problems = []
    for name, want in sums.items():
        path = os.path.join(CONVERTED, name)
        if not os.path.exists(path):
            problems.append(f"{rel(path)} is missing (run: python3 Models/convert.py all)")
            continue
        got = sha256_file(path)
        if got != want:
            problems.append(f"{rel(path)}: sha256 {got}, expected {want}")
        else:
            log(f"ok  {rel(path)}")
    if problems:
        raise ConvertError("verification failed:\n  " + "\n  ".join(problems))
    log(f"verify: {len(sums)} files match {rel(CHECKSUMS)}")


def record(manifest):
    names = []
    for model in manifest["models"]:
        if implemented(model):
            names.append(model["output"])
            names += [name for _, name, _ in extra_outputs(model)]
    names += [entry["output"] for entry in label_entries(manifest)]
    lines = []
    for name in names:
        path = os.path.join(CONVERTED, name)
        if not os.path.exists(path):
            raise ConvertError(f"{rel(path)} is missing; convert before recording")
        lines.append(f"{sha256_file(path)}  {name}")
    with open(CHECKSUMS, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    log(f"record: {len(lines)} checksums -> {rel(CHECKSUMS)}")


def show(manifest):
    for model in manifest["models"]:
        out = os.path.join(CONVERTED, model["output"])
        state = "present" if os.path.exists(out) else "absent"
        log(f"{model['name']:<24} {model['format']:<15} {package_key(model):<40} "
            f"{model.get('status', '')} [{state}]")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["all", "fetch", "convert", "labels", "verify",
                                            "record", "list"])
    parser.add_argument("names", nargs="*", help="model names (default: every implemented one)")
    args = parser.parse_args(argv)
    try:
        manifest = load_manifest()
        if args.command == "fetch":
            for model in select(manifest, args.names):
                path = fetch_model(manifest, model)
                log(f"{model['name']}: {rel(path)} (sha256 ok)")
            if not args.names:
                for entry in label_entries(manifest):
                    log(f"labels: {rel(fetch_labels_source(manifest, entry))} (sha256 ok)")
        elif args.command == "convert":
            for model in select(manifest, args.names):
                convert_model(manifest, model)
        elif args.command == "labels":
            convert_labels(manifest)
        elif args.command == "all":
            for model in select(manifest, args.names):
                convert_model(manifest, model)
            convert_labels(manifest)
            if os.path.exists(CHECKSUMS):
                verify()
            else:
                log(f"note: {rel(CHECKSUMS)} does not exist yet; run 'record' to create it")
        elif args.command == "verify":
            verify()
        elif args.command == "record":
            record(manifest)
        elif args.command == "list":
            show(manifest)
    except ConvertError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
