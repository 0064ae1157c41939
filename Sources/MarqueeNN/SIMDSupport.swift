// Vector loads and stores, partial (tail) accesses and vectorized exp, shared by kernels.

@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
func load16(_ p: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// Loads `n` < 16 floats; the other lanes hold `fill`.
@inline(__always)
func loadPartial16(_ p: UnsafePointer<Float>, _ n: Int, fill: Float = 0) -> SIMD16<Float> {
    var v = SIMD16<Float>(repeating: fill)
    for i in 0..<n { v[i] = p[i] }
    return v
}

/// Stores the first `n` < 16 lanes.
@inline(__always)
func storePartial16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { p[i] = v[i] }
}

/// SIMD8<Float> or SIMD16<Float>, for a kernel that runs in either (marquee_register_floats).
/// Code generic over SIMD reaches the standard library's lane-by-lane implementations; these
/// requirements reach each type's own vector instructions.
protocol FloatVector: SIMD where Scalar == Float {
    init(broadcast value: Float)
    /// self + a * b in one rounding (vfmadd).
    func addingFusedProduct(_ a: Self, _ b: Self) -> Self
    /// self + other (vaddps).
    func adding(_ other: Self) -> Self
    /// min(max(self, lower), upper), as `Epilogue` clamps (NaN passes through).
    func clamped(lower: Self, upper: Self) -> Self
}

extension SIMD8: FloatVector where Scalar == Float {
    @inline(__always) init(broadcast value: Float) { self.init(repeating: value) }
    @inline(__always) func addingFusedProduct(_ a: Self, _ b: Self) -> Self { addingProduct(a, b) }
    @inline(__always) func adding(_ other: Self) -> Self { self + other }
    @inline(__always) func clamped(lower: Self, upper: Self) -> Self {
        let raised = replacing(with: lower, where: self .< lower)
        return raised.replacing(with: upper, where: upper .< raised)
    }
}

extension SIMD16: FloatVector where Scalar == Float {
    @inline(__always) init(broadcast value: Float) { self.init(repeating: value) }
    @inline(__always) func addingFusedProduct(_ a: Self, _ b: Self) -> Self { addingProduct(a, b) }
    @inline(__always) func adding(_ other: Self) -> Self { self + other }
    @inline(__always) func clamped(lower: Self, upper: Self) -> Self { min16(max16(self, lower), upper) }
}

@inline(__always)
func loadVector<V: FloatVector>(_ p: UnsafePointer<Float>, as _: V.Type = V.self) -> V {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always)
func storeVector<V: FloatVector>(_ v: V, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

/// Loads `n` < V.scalarCount floats; the other lanes are zero.
@inline(__always)
func loadPartialVector<V: FloatVector>(_ p: UnsafePointer<Float>, _ n: Int) -> V {
    var v = V(broadcast: 0)
    for i in 0..<n { v[i] = p[i] }
    return v
}

/// Stores the first `n` < V.scalarCount lanes.
@inline(__always)
func storePartialVector<V: FloatVector>(_ v: V, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { p[i] = v[i] }
}

/// a * b + c in one rounding.
@inline(__always)
func fmaVector<V: FloatVector>(_ a: V, _ b: V, _ c: V) -> V {
    c.addingFusedProduct(a, b)
}

/// Lane-wise maximum as one compare and blend. The standard library's pointwiseMax and
/// pointwiseMin are not inlined here and go lane by lane, which made a fused ReLU6 epilogue
/// cost more than the GEMM tile it finishes.
@inline(__always)
func max16(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    a.replacing(with: b, where: a .< b)
}

/// Lane-wise minimum as one compare and blend.
@inline(__always)
func min16(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    a.replacing(with: b, where: b .< a)
}

/// a * b + c in one rounding (vfmadd).
@inline(__always)
func fma16(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>) -> SIMD16<Float> {
    c.addingProduct(a, b)
}

/// e^x, lane-wise: Cephes expf (range reduction by ln 2, degree-6 polynomial), relative
/// error about 1e-7. Inputs are clamped to [-87, 88], so results stay finite and normal.
@inline(__always)
func exp16(_ input: SIMD16<Float>) -> SIMD16<Float> {
    let x0 = min16(max16(input, SIMD16(repeating: -87)), SIMD16(repeating: 88))
    // Round x / ln 2 to the nearest integer n with the 1.5 * 2^23 trick: after the addition
    // the low mantissa bits of t hold n (+ the exponent bias, added in the same step).
    let magic = SIMD16<Float>(repeating: 12_582_912 + 127)
    let t = fma16(x0, SIMD16(repeating: 1.442_695_04), magic)
    let n = t - magic
    var x = fma16(n, SIMD16(repeating: -0.693_359_375), x0)
    x = fma16(n, SIMD16(repeating: 2.121_944_40e-4), x)
    let z = x * x
    var y = SIMD16<Float>(repeating: 1.987_569_150_0e-4)
    y = fma16(y, x, SIMD16(repeating: 1.398_199_950_7e-3))
    y = fma16(y, x, SIMD16(repeating: 8.333_451_907_3e-3))
    y = fma16(y, x, SIMD16(repeating: 4.166_579_589_4e-2))
    y = fma16(y, x, SIMD16(repeating: 1.666_666_545_9e-1))
    y = fma16(y, x, SIMD16(repeating: 5.000_000_120_1e-1))
    y = fma16(y, z, x + 1)
    // 2^n from the biased exponent held in t's low bits.
    let biased = unsafeBitCast(t, to: SIMD16<UInt32>.self) &- SIMD16<UInt32>(repeating: 0x4B40_0000)
    let scale = unsafeBitCast(biased &<< 23, to: SIMD16<Float>.self)
    return y * scale
}
