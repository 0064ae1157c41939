// Activation buffers reused across forward passes.

/// Hands out tensors in call order and gives the same buffers back on the next pass.
///
/// A model asks for its intermediate tensors in the same order on every forward pass; after
/// the first pass at a given input size no memory is allocated, zeroed or faulted in again.
/// Tensors from a workspace are overwritten by the next pass: copy what must outlive it.
/// One workspace serves one thread at a time.
public final class Workspace {
    private var buffers: [TensorStorage] = []
    private var next = 0

    public init() {}

    /// Starts a pass: the next `tensor(_:)` call gets the first buffer again.
    public func reset() { next = 0 }

    /// A tensor of `shape` whose contents are whatever the buffer last held.
    public func tensor(_ shape: [Int]) -> Tensor {
        let count = Tensor.elementCount(shape)
        if next == buffers.count {
            buffers.append(TensorStorage(capacity: count))
        } else if buffers[next].capacity < count {
            buffers[next] = TensorStorage(capacity: count)
        }
        defer { next += 1 }
        return Tensor(storage: buffers[next], offset: 0, shape: shape)
    }
}
