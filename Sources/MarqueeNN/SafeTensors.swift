// The safetensors weight format: an 8-byte little-endian header length, a JSON header
// mapping tensor names to {dtype, shape, data_offsets}, then the raw little-endian data.
// The file is memory-mapped; every length and offset is checked against the file before it
// is used, so a truncated or corrupt file throws instead of crashing.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a weight file was refused. Every case names the file, and the tensor when there is one.
public enum WeightError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case malformedFile(path: String, reason: String)
    case malformedTensor(path: String, tensor: String, reason: String)
    case missingTensor(path: String, tensor: String)
    case unexpectedTensors(path: String, tensors: [String])
    case shapeMismatch(path: String, tensor: String, actual: [Int], expected: [Int])
    case unsupportedDType(path: String, tensor: String, dtype: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "\(path): cannot open the weight file (\(reason))."
        case let .malformedFile(path, reason):
            return "\(path): not a valid safetensors file: \(reason)."
        case let .malformedTensor(path, tensor, reason):
            return "\(path): tensor '\(tensor)' is malformed: \(reason)."
        case let .missingTensor(path, tensor):
            return "\(path): tensor '\(tensor)' is missing."
        case let .unexpectedTensors(path, tensors):
            let more = tensors.count > 1 ? " (and \(tensors.count - 1) more)" : ""
            return "\(path): tensor '\(tensors.first ?? "")'\(more) is not expected by the model."
        case let .shapeMismatch(path, tensor, actual, expected):
            return "\(path): tensor '\(tensor)' has shape \(actual), expected \(expected)."
        case let .unsupportedDType(path, tensor, dtype):
            return "\(path): tensor '\(tensor)' has dtype \(dtype), which cannot be read as requested."
        case let .cannotWrite(path, reason):
            return "\(path): cannot write the weight file (\(reason))."
        }
    }
}

/// Element types of the safetensors format.
public enum WeightDType: String, Sendable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32", f64 = "F64", i64 = "I64", u64 = "U64"
    case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8e4m3, .f8e5m2: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .f64, .i64, .u64: return 8
        }
    }
}

/// A memory-mapped safetensors file.
///
/// Models read each tensor by name with the shape they expect (`floats(_:shape:)`), then call
/// `requireAllRead()` (or `requireExactly(names:)`) so that extra tensors are refused too.
public final class WeightFile {
    public struct Entry: Sendable, Equatable {
        public let dtype: WeightDType
        public let shape: [Int]
        /// Byte range within the data section.
        public let byteRange: Range<Int>
    }

    public let path: String
    public let entries: [String: Entry]
    /// The header's "__metadata__" string map.
    public let metadata: [String: String]
    private let mapping: UnsafeMutableRawPointer
    private let mappedLength: Int
    private let dataStart: Int
    private var read: Set<String> = []

    /// Sorted tensor names.
    public var names: [String] { entries.keys.sorted() }

    deinit { munmap(mapping, mappedLength) }

    private init(path: String, mapping: UnsafeMutableRawPointer, length: Int, dataStart: Int,
                 entries: [String: Entry], metadata: [String: String]) {
        self.path = path
        self.mapping = mapping
        mappedLength = length
        self.dataStart = dataStart
        self.entries = entries
        self.metadata = metadata
    }

    /// Maps the file and validates its header: every entry's dtype, shape and byte range.
    public static func open(_ path: String) throws -> WeightFile {
        // O_NONBLOCK: opening a FIFO by mistake must fail below, not wait for a writer.
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else { throw WeightError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw WeightError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw WeightError.cannotOpen(path: path, reason: "not a regular file") }
        let size = Int(st.st_size)
        guard size >= 8 else {
            throw WeightError.malformedFile(path: path, reason: "the file has \(size) bytes, fewer than the 8-byte header length")
        }
        guard let raw = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), raw != MAP_FAILED else {
            throw WeightError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        do {
            let (entries, metadata, dataStart) = try parseHeader(path: path, base: UnsafeRawPointer(raw), size: size)
            return WeightFile(path: path, mapping: raw, length: size, dataStart: dataStart,
                              entries: entries, metadata: metadata)
        } catch {
            munmap(raw, size)
            throw error
        }
    }

    private static func parseHeader(path: String, base: UnsafeRawPointer, size: Int) throws
        -> ([String: Entry], [String: String], Int)
    {
        let headerLength = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(size - 8) else {
            throw WeightError.malformedFile(path: path, reason: "the header length \(headerLength) runs past the end of the \(size)-byte file")
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = size - dataStart
        let json = Data(bytes: base + 8, count: Int(headerLength))
        guard let object = try? JSONSerialization.jsonObject(with: json),
              let header = object as? [String: Any] else {
            throw WeightError.malformedFile(path: path, reason: "the header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw WeightError.malformedFile(path: path, reason: "__metadata__ is not an object")
                }
                for (k, v) in m { if let s = v as? String { metadata[k] = s } }
                continue
            }
            func bad(_ reason: String) -> WeightError {
                .malformedTensor(path: path, tensor: name, reason: reason)
            }
            guard let info = value as? [String: Any] else { throw bad("its header entry is not an object") }
            guard let dtypeName = info["dtype"] as? String else { throw bad("no dtype") }
            guard let dtype = WeightDType(rawValue: dtypeName) else { throw bad("unknown dtype \(dtypeName)") }
            guard let shapeValues = info["shape"] as? [Any] else { throw bad("no shape") }
            var shape: [Int] = []
            var elements = 1
            for v in shapeValues {
                guard let d = integer(v), d >= 0 else { throw bad("shape \(shapeValues) is not a list of sizes") }
                shape.append(d)
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw bad("shape \(shape) is too large") }
                elements = product
            }
            guard let offsets = info["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = integer(offsets[0]), let end = integer(offsets[1]) else {
                throw bad("data_offsets is not a pair of integers")
            }
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw bad("data_offsets [\(begin), \(end)] lie outside the \(dataSize)-byte data section")
            }
            let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, bytes == end - begin else {
                throw bad("shape \(shape) of \(dtypeName) needs \(overflow ? "too many" : String(bytes)) bytes but data_offsets hold \(end - begin)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, byteRange: begin..<end)
        }
        return (entries, metadata, dataStart)
    }

    private static func integer(_ v: Any) -> Int? {
        if let n = v as? NSNumber {
            // Refuse booleans and non-integral numbers.
            if isBoolean(n) { return nil }
            let d = n.doubleValue
            guard d.rounded() == d, abs(d) < 9.0e15 else { return nil }
            return n.intValue
        }
        return nil
    }

    private static func isBoolean(_ n: NSNumber) -> Bool {
        // JSON true/false arrive as NSNumber too; their objCType is "c" (char).
        String(cString: n.objCType) == "c"
    }

    /// The entry for `name` after checking that it exists and has `shape`.
    public func entry(_ name: String, shape: [Int]) throws -> Entry {
        guard let e = entries[name] else { throw WeightError.missingTensor(path: path, tensor: name) }
        guard e.shape == shape else {
            throw WeightError.shapeMismatch(path: path, tensor: name, actual: e.shape, expected: shape)
        }
        markRead(name)
        return e
    }

    func markRead(_ name: String) {
        read.insert(name)
    }

    /// The tensor's values as Float (from F32, F16, BF16 or F64), after checking its shape.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        let e = try entry(name, shape: shape)
        let count = e.shape.reduce(1, *)
        let src = UnsafeRawPointer(mapping) + dataStart + e.byteRange.lowerBound
        switch e.dtype {
        case .f32:
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 { memcpy(buffer.baseAddress!, src, count * 4) }
                for i in 0..<count { buffer[i] = Float(bitPattern: UInt32(littleEndian: buffer[i].bitPattern)) }
                initialized = count
            }
        case .f16:
            return (0..<count).map { Float(halfBits: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
        case .bf16:
            return (0..<count).map {
                Float(bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) << 16)
            }
        case .f64:
            return (0..<count).map {
                Float(Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))))
            }
        default:
            throw WeightError.unsupportedDType(path: path, tensor: name, dtype: e.dtype.rawValue)
        }
    }

    /// The tensor's values as a Tensor of the given shape.
    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        Tensor(shape: shape, values: try floats(name, shape: shape))
    }

    /// The tensor's values as Int64 (from I64 or I32), after checking its shape.
    public func int64s(_ name: String, shape: [Int]) throws -> [Int64] {
        let e = try entry(name, shape: shape)
        let count = e.shape.reduce(1, *)
        let src = UnsafeRawPointer(mapping) + dataStart + e.byteRange.lowerBound
        switch e.dtype {
        case .i64: return (0..<count).map { Int64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
        case .i32: return (0..<count).map { Int64(Int32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
        default: throw WeightError.unsupportedDType(path: path, tensor: name, dtype: e.dtype.rawValue)
        }
    }

    /// Throws unless the file holds exactly `names`: the first missing name, or the unknown ones.
    public func requireExactly<C: Collection>(names expected: C) throws where C.Element == String {
        let expectedSet = Set(expected)
        for name in expected.sorted() where entries[name] == nil {
            throw WeightError.missingTensor(path: path, tensor: name)
        }
        let extra = entries.keys.filter { !expectedSet.contains($0) }.sorted()
        if !extra.isEmpty { throw WeightError.unexpectedTensors(path: path, tensors: extra) }
    }

    /// Throws if any tensor in the file has not been read through `entry`, `floats`, `tensor`
    /// or `int64s`: a checkpoint with tensors the model does not know is the wrong checkpoint.
    public func requireAllRead() throws {
        let extra = entries.keys.filter { !read.contains($0) }.sorted()
        if !extra.isEmpty { throw WeightError.unexpectedTensors(path: path, tensors: extra) }
    }

    /// Writes F32 tensors as a safetensors file (names sorted, data in that order), e.g. to dump
    /// intermediate activations for comparison with a reference implementation.
    public static func write(_ tensors: [String: (shape: [Int], values: [Float])], to path: String,
                             metadata: [String: String] = [:]) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            precondition(t.shape.reduce(1, *) == t.values.count, "tensor '\(name)': shape \(t.shape) vs \(t.values.count) values")
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.values.count]] as [String: Any]
            offset += 4 * t.values.count
        }
        var json: Data
        do { json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]) } catch {
            throw WeightError.cannotWrite(path: path, reason: "header encoding failed")
        }
        while json.count % 8 != 0 { json.append(0x20) }
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        for name in names {
            tensors[name]!.values.withUnsafeBytes { file.append(contentsOf: $0) }
        }
        do { try file.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw WeightError.cannotWrite(path: path, reason: "\(error.localizedDescription)")
        }
    }
}

extension Float {
    /// Decodes IEEE 754 half-precision bits.
    init(halfBits h: UInt16) {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa * 2^-24.
            let v = Float(mantissa) * 0x1p-24
            self = sign != 0 ? -v : v
        } else if exponent == 31 {
            self = Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        } else {
            self = Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
        }
    }
}
