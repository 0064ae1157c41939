// MarqueeNN: tensors, SIMD kernels, thread pool and the safetensors loader.
//
// Conventions shared by every file:
// - Tensors are NHWC (last axis innermost); see Tensor.swift for why and for how 1D, 3D and
//   token data map onto it by reshaping.
// - Kernels take the output first (`conv2d(out:in:weights:...)`), write into a tensor the
//   caller allocated once, check shapes with preconditions (a mismatch is a bug in the model
//   code), and take a `ThreadPool` last (`.shared` by default, `.serial` for one thread).
// - Weights are repacked at load time into the layout their kernel reads (Gemm.swift,
//   Convolution.swift, Depthwise.swift); batch norm is folded into convolutions then.
// - Data from files (WeightFile) is validated and refused with a typed error; nothing on a
//   data-dependent path traps.
//
// Files, one per op family: Tensor, ThreadPool, SIMDSupport (vector loads, exp), Gemm,
// Convolution, Depthwise, Dense (and attention matmuls), Activations, Elementwise,
// Normalization, Pooling, Padding, Concat, Resize, ImageResize, SafeTensors.
