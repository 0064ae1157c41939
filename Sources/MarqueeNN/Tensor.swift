// Tensor: Float32 data in NHWC order, viewed through a shared, 64-byte aligned buffer.
//
// Why NHWC: channels are innermost, so one pixel's channels are contiguous. Pointwise
// convolutions become a GEMM whose rows (pixels) are contiguous vectors of Cin, depthwise
// kernels run SIMD16 lanes along channels with unit stride, and pooling, bias, activations
// and channel concatenation all vectorize over the same axis. Higher- and lower-rank data
// use the same convention (last axis innermost): a (2+1)D video tensor [N, T, H, W, C] is
// reshaped to [N*T, H, W, C] for the spatial 1x3x3 convolution and to [N, T, H*W, C] for the
// temporal 3x1x1 one; a token matrix [tokens, features] is [1, 1, tokens, features].

/// An owned, 64-byte aligned Float buffer. Tensors are views on one of these.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let capacity: Int

    /// Allocates `capacity` floats set to zero.
    public init(capacity: Int) {
        precondition(capacity >= 0, "negative tensor capacity")
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 16) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(capacity, 16))
        pointer.initialize(repeating: 0, count: max(capacity, 16))
        self.capacity = capacity
    }

    deinit { pointer.deallocate() }
}

/// A view of `count` floats in a `TensorStorage`, with a shape whose last axis is innermost.
///
/// `Tensor` has reference semantics for its elements: copies and reshapes share storage.
/// Kernels write through `out` tensors, so a model allocates its activations once per input
/// size and reuses them on every call.
public struct Tensor: @unchecked Sendable {
    public let storage: TensorStorage
    public let offset: Int
    public let shape: [Int]
    public let count: Int

    /// A zero-filled tensor of the given shape.
    public init(shape: [Int]) {
        let count = Tensor.elementCount(shape)
        self.init(storage: TensorStorage(capacity: count), offset: 0, shape: shape)
    }

    /// A tensor of the given shape with every element set to `value`.
    public init(shape: [Int], repeating value: Float) {
        self.init(shape: shape)
        fill(value)
    }

    /// A tensor holding `values` in row-major order (last axis innermost).
    public init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "values.count \(values.count) != shape product \(count)")
        if count > 0 { values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) } }
    }

    /// A view of `storage` starting at `offset` floats.
    public init(storage: TensorStorage, offset: Int, shape: [Int]) {
        let count = Tensor.elementCount(shape)
        precondition(offset >= 0 && offset + count <= storage.capacity, "tensor view out of its storage")
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.count = count
    }

    static func elementCount(_ shape: [Int]) -> Int {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        return shape.reduce(1, *)
    }

    public var data: UnsafeMutablePointer<Float> { storage.pointer + offset }
    public var rank: Int { shape.count }

    /// NHWC accessors for rank-4 tensors.
    public var n: Int { shape[0] }
    public var h: Int { shape[1] }
    public var w: Int { shape[2] }
    public var c: Int { shape[3] }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(Tensor.elementCount(newShape) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(storage: storage, offset: offset, shape: newShape)
    }

    /// Items `range` of the outermost axis, as a view.
    public func slice(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0], "slice out of range")
        let inner = shape.count > 1 ? Tensor.elementCount(Array(shape.dropFirst())) : 1
        var s = shape
        s[0] = range.count
        return Tensor(storage: storage, offset: offset + range.lowerBound * inner, shape: s)
    }

    public func fill(_ value: Float) {
        data.update(repeating: value, count: count)
    }

    /// Copies `source`'s elements (same count) into this tensor.
    public func copy(from source: Tensor) {
        precondition(source.count == count, "copy of \(source.shape) into \(shape)")
        data.update(from: source.data, count: count)
    }

    public func toArray() -> [Float] {
        Array(UnsafeBufferPointer(start: data, count: count))
    }

    public subscript(flat index: Int) -> Float {
        get { precondition(index >= 0 && index < count); return data[index] }
        nonmutating set { precondition(index >= 0 && index < count); data[index] = newValue }
    }
}

/// A height/width pair (stride, dilation, kernel size); an integer literal means square.
public struct Size2: Equatable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public var h: Int
    public var w: Int
    public init(_ h: Int, _ w: Int) { self.h = h; self.w = w }
    public init(integerLiteral value: Int) { self.init(value, value) }
    public var description: String { "\(h)x\(w)" }
}
