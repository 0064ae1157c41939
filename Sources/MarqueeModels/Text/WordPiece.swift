// WordPiece, as Hugging Face tokenizers' `WordPiece` model: each pre-tokenized word is
// split greedily into the longest vocabulary entries from the left, pieces after the first
// carrying the "##" prefix; a word with a part that matches nothing, or longer than
// `maxInputCharactersPerWord` scalars, becomes the single unknown token.
import Foundation

public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    case unreadableVocabulary(path: String, reason: String)
    case missingToken(path: String, token: String)

    public var description: String {
        switch self {
        case let .unreadableVocabulary(path, reason): return "\(path): cannot read the vocabulary: \(reason)"
        case let .missingToken(path, token): return "\(path): the vocabulary has no \(token) token"
        }
    }
}

public struct WordPieceVocabulary: Sendable {
    /// Token text by id (line number of vocab.txt, from 0).
    public let tokens: [String]
    /// Ids by the UTF-8 bytes of the token. Keyed by bytes, not `String`, because Swift
    /// compares strings by canonical equivalence and the reference compares them byte by byte.
    let ids: [[UInt8]: Int32]

    public let unknownID: Int32
    public let classifierID: Int32
    public let separatorID: Int32
    public let paddingID: Int32

    /// Reads a BERT vocab.txt: one token per line, the line number is the id.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenizerError.unreadableVocabulary(path: path, reason: "no such file or not readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TokenizerError.unreadableVocabulary(path: path, reason: "not UTF-8")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        if lines.last == "" { lines.removeLast() }
        try self.init(tokens: lines, path: path)
    }

    public init(tokens: [String], path: String = "<vocabulary>") throws {
        guard !tokens.isEmpty else { throw TokenizerError.unreadableVocabulary(path: path, reason: "empty") }
        var ids: [[UInt8]: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, token) in tokens.enumerated() where ids[Array(token.utf8)] == nil {
            ids[Array(token.utf8)] = Int32(i)  // the first occurrence wins, as in the reference
        }
        func special(_ token: String) throws -> Int32 {
            guard let id = ids[Array(token.utf8)] else { throw TokenizerError.missingToken(path: path, token: token) }
            return id
        }
        self.tokens = tokens
        self.ids = ids
        unknownID = try special("[UNK]")
        classifierID = try special("[CLS]")
        separatorID = try special("[SEP]")
        paddingID = try special("[PAD]")
    }

    public func id(of token: String) -> Int32? { ids[Array(token.utf8)] }
}

public struct WordPiece: Sendable {
    public let vocabulary: WordPieceVocabulary
    public let maxInputCharactersPerWord: Int
    static let continuationPrefix: [UInt8] = Array("##".utf8)

    public init(vocabulary: WordPieceVocabulary, maxInputCharactersPerWord: Int = 100) {
        self.vocabulary = vocabulary
        self.maxInputCharactersPerWord = maxInputCharactersPerWord
    }

    /// Appends the ids of one word (its Unicode scalars) to `ids`.
    public func encode(word: [Unicode.Scalar], into ids: inout [Int32]) {
        guard !word.isEmpty else { return }
        guard word.count <= maxInputCharactersPerWord else {
            ids.append(vocabulary.unknownID)
            return
        }
        // UTF-8 of the word and the byte offset where each scalar starts.
        var bytes: [UInt8] = []
        var starts: [Int] = []
        bytes.reserveCapacity(word.count * 2)
        for scalar in word {
            starts.append(bytes.count)
            if let encoded = UTF8.encode(scalar) { bytes.append(contentsOf: encoded) }
        }
        starts.append(bytes.count)
        let first = ids.count
        var start = 0
        var key: [UInt8] = []
        key.reserveCapacity(bytes.count + 2)
        while start < word.count {
            var end = word.count
            var found: Int32?
            while start < end {
                key.removeAll(keepingCapacity: true)
                if start > 0 { key.append(contentsOf: Self.continuationPrefix) }
                key.append(contentsOf: bytes[starts[start]..<starts[end]])
                if let id = vocabulary.ids[key] { found = id; break }
                end -= 1
            }
            guard let id = found else {
                ids.removeSubrange(first...)
                ids.append(vocabulary.unknownID)
                return
            }
            ids.append(id)
            start = end
        }
    }
}
