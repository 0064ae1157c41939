import Foundation
import MarqueeAnalysis
import XCTest

final class SHA256Tests: XCTestCase {
    func testKnownDigests() {
        XCTAssertEqual(SHA256.hex(of: Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(of: Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // Two blocks: the padding spills into a second one.
        XCTAssertEqual(SHA256.hex(of: Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testFileDigestEqualsSha256sum() throws {
        let path = TestFiles.root.appendingPathComponent("Media/samples/bigbuckbunny.mp4").path
        let sums = try String(contentsOf: TestFiles.root.appendingPathComponent("Media/samples.sha256"), encoding: .utf8)
        let expected = try XCTUnwrap(sums.split(separator: "\n").first { $0.hasSuffix("bigbuckbunny.mp4") }?.split(separator: " ").first)
        XCTAssertEqual(try SHA256.hex(ofFileAt: path), String(expected))
    }
}
