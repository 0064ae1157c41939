import Foundation
import MarqueeModels
import XCTest

/// The WordPiece tokenizer against sentence-transformers' (goldens from Models/goldens/minilm.py).
final class BertTokenizerTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let goldens = root.appendingPathComponent("Tests/MarqueeModelsTests/Goldens/minilm")
    static let vocabularyPath = root.appendingPathComponent("Models/converted/all_minilm_l6_v2.vocab.txt").path

    struct GoldenText: Decodable {
        var text: String
        var ids: [Int32]
    }

    static func goldenTexts() throws -> [GoldenText] {
        let data = try Data(contentsOf: goldens.appendingPathComponent("texts.json"))
        return try JSONDecoder().decode([GoldenText].self, from: data)
    }

    nonisolated(unsafe) static var loaded: BertTokenizer?

    static func tokenizer() throws -> BertTokenizer {
        if let loaded { return loaded }
        guard FileManager.default.fileExists(atPath: vocabularyPath) else {
            throw NPYError("\(vocabularyPath) is missing: run `make models` first")
        }
        let tokenizer = try BertTokenizer(vocabularyPath: vocabularyPath)
        loaded = tokenizer
        return tokenizer
    }

    func testTokenIDsMatchSentenceTransformersOnEveryGoldenText() throws {
        let tokenizer = try Self.tokenizer()
        let texts = try Self.goldenTexts()
        XCTAssertGreaterThanOrEqual(texts.count, 300)
        var mismatches = 0
        for (index, golden) in texts.enumerated() {
            let ids = tokenizer.encode(golden.text)
            if ids != golden.ids {
                mismatches += 1
                let at = (0..<min(ids.count, golden.ids.count)).first { ids[$0] != golden.ids[$0] } ?? min(ids.count, golden.ids.count)
                XCTFail("text \(index) \(golden.text.debugDescription.prefix(80)): first difference at token \(at): "
                    + "ours \(tokenizer.tokens(Array(ids[at...].prefix(5)))) vs reference \(tokenizer.tokens(Array(golden.ids[at...].prefix(5))))")
            }
        }
        XCTAssertEqual(mismatches, 0)
    }

    func testEmptyTextIsClassifierAndSeparatorOnly() throws {
        let tokenizer = try Self.tokenizer()
        XCTAssertEqual(tokenizer.encode(""), [101, 102])
        XCTAssertEqual(tokenizer.encode(" \t\n\u{0}"), [101, 102])
    }

    func testLongTextsAreTruncatedToTheModelsMaximumOfTwoHundredFiftySix() throws {
        let tokenizer = try Self.tokenizer()
        let ids = tokenizer.encode(String(repeating: "token ", count: 1000))
        XCTAssertEqual(ids.count, 256)
        XCTAssertEqual(ids.first, 101)
        XCTAssertEqual(ids.last, 102)
        XCTAssertEqual(tokenizer.wordPieceIDs(String(repeating: "token ", count: 1000)).count, 1000)
    }

    func testWordsOverOneHundredCharactersAreUnknown() throws {
        let tokenizer = try Self.tokenizer()
        let unknown = tokenizer.vocabulary.unknownID
        XCTAssertNotEqual(tokenizer.wordPieceIDs(String(repeating: "a", count: 100)), [unknown])
        XCTAssertEqual(tokenizer.wordPieceIDs(String(repeating: "a", count: 101)), [unknown])
    }

    func testGreedyLongestMatchUsesContinuationPieces() throws {
        let tokenizer = try Self.tokenizer()
        XCTAssertEqual(tokenizer.tokens(tokenizer.wordPieceIDs("Tokenization unaffable")),
                       ["token", "##ization", "una", "##ffa", "##ble"])
    }

    struct CodePointTable: Decodable {
        var runs: [[CodePointRunField]]
        var changed: [String: [String]]
    }

    enum CodePointRunField: Decodable {
        case number(Int), name(String)
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let n = try? container.decode(Int.self) { self = .number(n) } else { self = .name(try container.decode(String.self)) }
        }
    }

    /// Every Unicode scalar, probed as "a" + c + "a", is cleaned, split, lower-cased and
    /// stripped of accents exactly as the reference's normalizer and pre-tokenizer do.
    func testEveryCodePointIsNormalizedAndSplitAsTheReferenceDoes() throws {
        let data = try Data(contentsOf: Self.goldens.appendingPathComponent("codepoints.json"))
        let table = try JSONDecoder().decode(CodePointTable.self, from: data)
        var failures: [String] = []
        var checked = 0
        for run in table.runs {
            guard run.count == 3, case let .number(first) = run[0], case let .number(last) = run[1],
                  case let .name(kind) = run[2] else { XCTFail("bad run \(run)"); continue }
            for value in first...last {
                guard let scalar = Unicode.Scalar(value) else { continue }
                let c = String(Character(scalar))
                let expected: [String]
                switch kind {
                case "keep": expected = ["a" + c + "a"]
                case "drop": expected = ["aa"]
                case "space": expected = ["a", "a"]
                case "split": expected = ["a", c, "a"]
                default: expected = table.changed[String(value)] ?? ["<missing>"]
                }
                let words = BertPreTokenizer.split(BertNormalizer.normalize("a" + c + "a")).map { word in
                    var s = String.UnicodeScalarView()
                    s.append(contentsOf: word)
                    return String(s)
                }
                checked += 1
                // Compare scalar by scalar: Swift's String == is canonical equivalence.
                if words.map({ Array($0.unicodeScalars) }) != expected.map({ Array($0.unicodeScalars) }) {
                    failures.append(String(format: "U+%04X %@: ours %@ vs reference %@", value, kind,
                                           words.debugDescription, expected.debugDescription))
                }
            }
        }
        XCTAssertGreaterThan(checked, 1_100_000)
        XCTAssert(failures.isEmpty, "\(failures.count) code points differ, e.g.\n" + failures.prefix(ProcessInfo.processInfo.environment["MARQUEE_ALL_FAILURES"] == nil ? 30 : failures.count).joined(separator: "\n"))
    }
}

final class WordPieceVocabularyErrorTests: XCTestCase {
    func testAMissingVocabularyFileIsATypedErrorNamingIt() {
        XCTAssertThrowsError(try WordPieceVocabulary(path: "/no/such/vocab.txt")) { error in
            XCTAssertEqual(error as? TokenizerError, .unreadableVocabulary(path: "/no/such/vocab.txt", reason: "no such file or not readable"))
        }
    }

    func testAVocabularyWithoutTheSpecialTokensIsRefused() {
        XCTAssertThrowsError(try WordPieceVocabulary(tokens: ["[PAD]", "[CLS]", "[SEP]", "hello"])) { error in
            XCTAssertEqual(error as? TokenizerError, .missingToken(path: "<vocabulary>", token: "[UNK]"))
        }
    }
}
