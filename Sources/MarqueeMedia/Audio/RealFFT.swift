import CFFmpeg

/// A forward real-to-complex DFT of one size in double precision, by libavutil's av_tx.
///
/// Double precision because the reference (librosa's `stft`) multiplies Float32 frames by a
/// float64 window and transforms in float64 before rounding to complex64; a Float32 FFT
/// leaves errors of 1e-4 relative in bands 60 dB below a frame's peak.
public final class RealFFT {
    /// Input samples per transform (N); the output has N/2 + 1 complex values.
    public let size: Int
    private var context: OpaquePointer?
    private let transform: av_tx_fn
    private let input: UnsafeMutablePointer<Double>
    /// N/2 + 1 (re, im) pairs.
    private let output: UnsafeMutablePointer<Double>

    public init(size: Int) throws {
        guard size >= 2, size % 2 == 0, size <= 1 << 24 else {
            throw MediaError(path: "", reason: .other("an FFT of \(size) points is not supported"))
        }
        self.size = size
        var scale = 1.0
        var function: av_tx_fn?
        var ctx: OpaquePointer?
        let status = av_tx_init(&ctx, &function, AV_TX_DOUBLE_RDFT, 0, Int32(size), &scale, 0)
        guard status >= 0, let ctx, let function else {
            throw MediaError.ffmpeg("", "av_tx_init", status < 0 ? status : -1)
        }
        context = ctx
        transform = function
        // av_tx wants SIMD-aligned buffers; av_malloc aligns to the widest vector unit.
        input = av_malloc(size * MemoryLayout<Double>.size)!.assumingMemoryBound(to: Double.self)
        output = av_malloc((size + 2) * MemoryLayout<Double>.size)!.assumingMemoryBound(to: Double.self)
    }

    deinit {
        av_tx_uninit(&context)
        av_free(input)
        av_free(output)
    }

    /// Transforms `size` samples from `samples` and hands the N/2 + 1 (re, im) pairs,
    /// interleaved, to `body`. Not reentrant.
    public func forward<R>(_ fill: (UnsafeMutablePointer<Double>) -> Void,
                           _ body: (UnsafePointer<Double>) -> R) -> R {
        fill(input)
        transform(context, output, input, MemoryLayout<Double>.stride)
        return body(output)
    }
}
