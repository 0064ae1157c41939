import Foundation
import XCTest
@testable import MarqueeNN

final class SafeTensorsTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-nn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A file with a raw header string and data bytes.
    func writeRaw(_ name: String, header: String, data: [UInt8], declaredLength: UInt64? = nil) -> String {
        var bytes: [UInt8] = []
        let h = Array(header.utf8)
        withUnsafeBytes(of: (declaredLength ?? UInt64(h.count)).littleEndian) { bytes += $0 }
        bytes += h + data
        XCTAssertTrue(FileManager.default.createFile(atPath: path(name), contents: Data(bytes)))
        return path(name)
    }

    func validFile() throws -> String {
        let p = path("valid.safetensors")
        try WeightFile.write([
            "stem.conv.weight": ([2, 1, 3], [1, 2, 3, 4, 5, 6]),
            "stem.bn.bias": ([2], [0.5, -0.5]),
        ], to: p, metadata: ["format": "pt"])
        return p
    }

    func assertThrows(_ expected: WeightError, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) {
        do {
            try body()
            XCTFail("no error; expected \(expected)", file: file, line: line)
        } catch let error as WeightError {
            XCTAssertEqual(error, expected, file: file, line: line)
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
    }

    func testValidFileReadsTensorsByNameAndShape() throws {
        let f = try WeightFile.open(try validFile())
        XCTAssertEqual(f.names, ["stem.bn.bias", "stem.conv.weight"])
        XCTAssertEqual(f.metadata["format"], "pt")
        XCTAssertEqual(try f.floats("stem.conv.weight", shape: [2, 1, 3]), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try f.tensor("stem.bn.bias", shape: [2]).toArray(), [0.5, -0.5])
        XCTAssertNoThrow(try f.requireAllRead())
        XCTAssertNoThrow(try f.requireExactly(names: ["stem.conv.weight", "stem.bn.bias"]))
    }

    func testWrongShapeIsRefusedNamingFileAndTensor() throws {
        let p = try validFile()
        let f = try WeightFile.open(p)
        assertThrows(.shapeMismatch(path: p, tensor: "stem.conv.weight", actual: [2, 1, 3], expected: [2, 3])) {
            _ = try f.floats("stem.conv.weight", shape: [2, 3])
        }
        let message = WeightError.shapeMismatch(path: p, tensor: "stem.conv.weight", actual: [2, 1, 3], expected: [2, 3]).description
        XCTAssertEqual(message, "\(p): tensor 'stem.conv.weight' has shape [2, 1, 3], expected [2, 3].")
    }

    func testMissingAndUnknownTensorsAreRefused() throws {
        let p = try validFile()
        let f = try WeightFile.open(p)
        assertThrows(.missingTensor(path: p, tensor: "head.weight")) { _ = try f.floats("head.weight", shape: [1]) }
        assertThrows(.missingTensor(path: p, tensor: "head.weight")) {
            try f.requireExactly(names: ["stem.conv.weight", "stem.bn.bias", "head.weight"])
        }
        assertThrows(.unexpectedTensors(path: p, tensors: ["stem.bn.bias"])) { try f.requireExactly(names: ["stem.conv.weight"]) }
        _ = try f.floats("stem.conv.weight", shape: [2, 1, 3])
        assertThrows(.unexpectedTensors(path: p, tensors: ["stem.bn.bias"])) { try f.requireAllRead() }
    }

    func testTruncatedFileIsRefused() throws {
        let p = try validFile()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: p))
        for cut in [0, 5, 8, 20, bytes.count - 1] {
            let q = path("cut\(cut).safetensors")
            XCTAssertTrue(FileManager.default.createFile(atPath: q, contents: bytes.prefix(cut)))
            XCTAssertThrowsError(try WeightFile.open(q), "cut at \(cut)") { error in
                XCTAssertTrue("\(error)".hasPrefix(q), "\(error)")
            }
        }
    }

    func testHeaderLengthBeyondTheFileIsRefused() {
        let p = writeRaw("long.safetensors", header: "{}", data: [], declaredLength: 1 << 40)
        assertThrows(.malformedFile(path: p, reason: "the header length 1099511627776 runs past the end of the 10-byte file")) {
            _ = try WeightFile.open(p)
        }
    }

    func testBadJSONIsRefused() {
        let p = writeRaw("bad.safetensors", header: "{\"a\": [", data: [])
        assertThrows(.malformedFile(path: p, reason: "the header is not a JSON object")) { _ = try WeightFile.open(p) }
        let q = writeRaw("array.safetensors", header: "[1, 2]", data: [])
        XCTAssertThrowsError(try WeightFile.open(q))
    }

    func testOffsetsOutsideTheDataOrDisagreeingWithTheShapeAreRefused() {
        let outside = writeRaw("outside.safetensors",
            header: #"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, data: [0, 0, 0, 0])
        XCTAssertThrowsError(try WeightFile.open(outside)) { XCTAssertTrue("\($0)".contains("'w'"), "\($0)") }
        let disagree = writeRaw("disagree.safetensors",
            header: #"{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, data: [UInt8](repeating: 0, count: 8))
        XCTAssertThrowsError(try WeightFile.open(disagree)) { XCTAssertTrue("\($0)".contains("'w'"), "\($0)") }
        let negative = writeRaw("negative.safetensors",
            header: #"{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0])
        XCTAssertThrowsError(try WeightFile.open(negative))
        let huge = writeRaw("huge.safetensors",
            header: #"{"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 0]}}"#, data: [])
        XCTAssertThrowsError(try WeightFile.open(huge))
        let dtype = writeRaw("dtype.safetensors",
            header: #"{"w": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 1]}}"#, data: [0])
        XCTAssertThrowsError(try WeightFile.open(dtype)) { XCTAssertTrue("\($0)".contains("Q4"), "\($0)") }
    }

    func testHalfBFloatAndInt64AreDecoded() throws {
        // F16 1.0 = 0x3C00, -2.0 = 0xC000; BF16 1.5 = 0x3FC0; I64 -3.
        let header = #"{"h": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}, "b": {"dtype": "BF16", "shape": [1], "data_offsets": [4, 6]}, "i": {"dtype": "I64", "shape": [1], "data_offsets": [6, 14]}}"#
        var data: [UInt8] = [0x00, 0x3C, 0x00, 0xC0, 0xC0, 0x3F]
        withUnsafeBytes(of: Int64(-3).littleEndian) { data += $0 }
        let p = writeRaw("types.safetensors", header: header, data: data)
        let f = try WeightFile.open(p)
        XCTAssertEqual(try f.floats("h", shape: [2]), [1, -2])
        XCTAssertEqual(try f.floats("b", shape: [1]), [1.5])
        XCTAssertEqual(try f.int64s("i", shape: [1]), [-3])
        assertThrows(.unsupportedDType(path: p, tensor: "i", dtype: "I64")) { _ = try f.floats("i", shape: [1]) }
    }

    func testDirectoriesAndFIFOsAreRefusedWithoutWaiting() {
        XCTAssertThrowsError(try WeightFile.open(directory.path))
        let fifo = path("fifo.safetensors")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertThrowsError(try WeightFile.open(fifo)) { XCTAssertTrue("\($0)".contains("not a regular file"), "\($0)") }
    }

    func testBooleanAndFractionalShapesAreRefused() {
        let boolean = writeRaw("bool.safetensors",
            header: #"{"w": {"dtype": "F32", "shape": [true], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0])
        XCTAssertThrowsError(try WeightFile.open(boolean))
        let fraction = writeRaw("fraction.safetensors",
            header: #"{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0])
        XCTAssertThrowsError(try WeightFile.open(fraction))
    }

    func testPyTorchLayersLoadByPrefixAndAccountForEveryTensor() throws {
        var rng = TestRandom(seed: 70)
        let p = path("layers.safetensors")
        try WeightFile.write([
            "stem.conv.weight": ([4, 3, 3, 3], rng.floats(108)),
            "stem.bn.weight": ([4], rng.floats(4)),
            "stem.bn.bias": ([4], rng.floats(4)),
            "stem.bn.running_mean": ([4], rng.floats(4)),
            "stem.bn.running_var": ([4], rng.floats(4).map { abs($0) + 0.5 }),
            "stem.bn.num_batches_tracked": ([], [0]),
            "head.weight": ([10, 4], rng.floats(40)),
            "head.bias": ([10], rng.floats(10)),
            "unused.extra": ([1], [0]),
        ], to: p)
        let f = try WeightFile.open(p)
        let bn = try f.batchNorm("stem.bn", channels: 4, epsilon: 1e-3)
        let conv = try f.conv2d("stem.conv", outChannels: 4, inChannels: 3, kernel: 3, bias: false, batchNorm: bn)
        XCTAssertEqual(conv.outChannels, 4)
        let head = try f.linear("head", inFeatures: 4, outFeatures: 10)
        XCTAssertEqual(head.outFeatures, 10)
        assertThrows(.unexpectedTensors(path: p, tensors: ["unused.extra"])) { try f.requireAllRead() }
        try f.ignore("unused.extra")
        XCTAssertNoThrow(try f.requireAllRead())
        assertThrows(.shapeMismatch(path: p, tensor: "stem.conv.weight", actual: [4, 3, 3, 3], expected: [4, 3, 5, 5])) {
            _ = try f.conv2d("stem.conv", outChannels: 4, inChannels: 3, kernel: 5, bias: false)
        }
        assertThrows(.missingTensor(path: p, tensor: "stem.conv.bias")) {
            _ = try f.conv2d("stem.conv", outChannels: 4, inChannels: 3, kernel: 3, bias: true)
        }
    }

    func testMissingFileIsRefusedWithTheReason() {
        let p = path("absent.safetensors")
        XCTAssertThrowsError(try WeightFile.open(p)) { error in
            XCTAssertEqual("\(error)", "\(p): cannot open the weight file (No such file or directory).")
        }
    }
}
