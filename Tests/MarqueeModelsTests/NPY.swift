import Foundation

/// A NumPy .npy array (little-endian float32 or uint8, C order), as the golden scripts write them.
struct NPYArray {
    var shape: [Int]
    var floats: [Float]

    init(path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard data.count > 10, data.prefix(6) == Data([0x93]) + Data("NUMPY".utf8) else {
            throw NPYError("\(path) is not an .npy file")
        }
        let major = data[6]
        let headerLength = major == 1 ? Int(data[8]) | Int(data[9]) << 8
            : Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
        let headerStart = major == 1 ? 10 : 12
        let header = String(decoding: data[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let fortranOrder = header.contains("'fortran_order': True")
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw NPYError("\(path) has no shape")
        }
        shape = header[open.upperBound..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let body = data[(headerStart + headerLength)...]
        let count = shape.reduce(1, *)
        if header.contains("'<f4'") {
            guard body.count == count * 4 else { throw NPYError("\(path) holds \(body.count) bytes for \(shape)") }
            floats = body.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        } else if header.contains("'|u1'") {
            guard body.count == count else { throw NPYError("\(path) holds \(body.count) bytes for \(shape)") }
            floats = body.map { Float($0) }
        } else {
            throw NPYError("\(path): unsupported dtype in \(header)")
        }
        if fortranOrder { floats = Self.cOrder(fromFortran: floats, shape: shape) }
    }

    /// Column-major (first axis fastest) values rearranged to row-major order.
    static func cOrder(fromFortran values: [Float], shape: [Int]) -> [Float] {
        var out = [Float](repeating: 0, count: values.count)
        var index = [Int](repeating: 0, count: shape.count)
        for c in 0..<values.count {
            var f = 0, stride = 1
            for axis in 0..<shape.count {
                f += index[axis] * stride
                stride *= shape[axis]
            }
            out[c] = values[f]
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return out
    }

    /// [1, C, H, W] → [H, W, C] order (NCHW golden → NHWC engine).
    func nchwToNHWC() -> [Float] {
        precondition(shape.count == 4 && shape[0] == 1, "expected a single NCHW image, got \(shape)")
        let c = shape[1], h = shape[2], w = shape[3]
        var out = [Float](repeating: 0, count: floats.count)
        for ch in 0..<c { for y in 0..<h { for x in 0..<w { out[(y * w + x) * c + ch] = floats[(ch * h + y) * w + x] } } }
        return out
    }
}

struct NPYError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "comparing \(a.count) values with \(b.count)")
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

func cosineSimilarity(_ a: [Float], _ b: [Float]) -> Double {
    var dot = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a, b) { dot += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y) }
    return dot / (na.squareRoot() * nb.squareRoot())
}
