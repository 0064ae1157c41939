// The activation a kernel applies as it stores its results.
//
// `Activation.apply` on a SIMD16 value is not inlined into the kernels (its GELU case is
// large), so every store paid a call: accumulators spilled around it and a `vzeroupper`
// on each side. Identity, ReLU and ReLU6 are clamps, which a kernel applies inline as one
// vmaxps and one vminps; only GELU still goes through the call.

/// An activation prepared once per kernel call for its epilogue.
struct Epilogue {
    let activation: Activation
    /// Identity, ReLU and ReLU6: min(max(x, lower), upper), exactly as `Activation.apply`
    /// computes them (NaN passes through as it does there).
    let isClamp: Bool
    let lower: SIMD16<Float>
    let upper: SIMD16<Float>

    init(_ activation: Activation) {
        self.activation = activation
        switch activation {
        case .none:
            isClamp = true
            lower = SIMD16(repeating: -.infinity)
            upper = SIMD16(repeating: .infinity)
        case .relu:
            isClamp = true
            lower = .zero
            upper = SIMD16(repeating: .infinity)
        case .relu6:
            isClamp = true
            lower = .zero
            upper = SIMD16(repeating: 6)
        case .gelu:
            isClamp = false
            lower = .zero
            upper = .zero
        }
    }

    @inline(always)
    func apply(_ v: SIMD16<Float>) -> SIMD16<Float> {
        isClamp ? min16(max16(v, lower), upper) : activation.apply(v)
    }

    /// The same for SIMD8 or SIMD16; a GELU goes through SIMD16.
    @inline(always)
    func apply<V: FloatVector>(_ v: V) -> V {
        if isClamp { return v.clamped(lower: V(broadcast: lower[0]), upper: V(broadcast: upper[0])) }
        var wide = SIMD16<Float>()
        for i in 0..<V.scalarCount { wide[i] = v[i] }
        wide = activation.apply(wide)
        var result = v
        for i in 0..<V.scalarCount { result[i] = wide[i] }
        return result
    }
}
