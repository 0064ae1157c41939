// MarqueeNN: tensors, SIMD kernels, thread pool and the safetensors loader.
