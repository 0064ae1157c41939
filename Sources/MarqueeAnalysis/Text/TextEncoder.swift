// Text → MiniLM sentence vectors: texts as the reference encodes them (truncated at 256
// tokens), and documents of any length as the average of overlapping windows.
import MarqueeModels
import MarqueeNN

public final class TextEncoder {
    public let tokenizer: BertTokenizer
    public let model: MiniLM
    /// Texts per forward pass. Sequences are packed without padding, so this bounds memory,
    /// not wasted work.
    public var batchSize = 32

    public init(tokenizer: BertTokenizer, model: MiniLM) {
        self.tokenizer = tokenizer
        self.model = model
    }

    /// Loads all-MiniLM-L6-v2 and its vocabulary from converted weights.
    public convenience init(store: ModelStore = .locate(), pool: ThreadPool = .shared) throws {
        self.init(tokenizer: try store.miniLMTokenizer(), model: try store.miniLM(pool: pool))
    }

    public static let dimension = MiniLM.hiddenSize

    /// One unit vector per id sequence (each with [CLS] and [SEP]), run `batchSize` at a time.
    public func embed(ids sequences: [[Int32]]) -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(sequences.count)
        var start = 0
        while start < sequences.count {
            let batch = Array(sequences[start..<min(start + max(1, batchSize), sequences.count)])
            let out = model.embed(batch)
            for i in batch.indices {
                vectors.append(Array(UnsafeBufferPointer(start: out.data + i * Self.dimension, count: Self.dimension)))
            }
            start += batch.count
        }
        return vectors
    }

    /// One unit vector per text, exactly as sentence-transformers' encode: the first 254
    /// word pieces of each text.
    public func embed(_ texts: [String]) -> [[Float]] {
        embed(ids: texts.map { tokenizer.encode($0) })
    }

    /// Word-piece windows of a long text: `size` pieces (254: 256 with [CLS] and [SEP]),
    /// each starting `stride` pieces after the previous one, the last one ending at the end.
    public static func windows(_ pieces: [Int32], size: Int = 254, stride: Int = 192) -> [ArraySlice<Int32>] {
        guard pieces.count > size else { return [pieces[...]] }
        var result: [ArraySlice<Int32>] = []
        var start = 0
        while true {
            if start + size >= pieces.count {
                result.append(pieces[(pieces.count - size)...])
                break
            }
            result.append(pieces[start..<(start + size)])
            start += max(1, stride)
        }
        return result
    }

    /// Unit vectors of documents of any length: a document longer than the model's 256
    /// tokens is cut into overlapping windows whose vectors are averaged (then normalized).
    /// A document with no word pieces gets nil.
    public func embedDocuments(_ documents: [String]) -> [[Float]?] {
        var sequences: [[Int32]] = []
        var owners: [Int] = []
        for (index, document) in documents.enumerated() {
            let pieces = tokenizer.wordPieceIDs(document)
            guard !pieces.isEmpty else { continue }
            for window in Self.windows(pieces, size: tokenizer.maxLength - 2) {
                sequences.append(tokenizer.wrap(window))
                owners.append(index)
            }
        }
        var sums = [[Float]?](repeating: nil, count: documents.count)
        for (vector, owner) in zip(embed(ids: sequences), owners) {
            if let sum = sums[owner] {
                sums[owner] = zip(sum, vector).map { $0 + $1 }
            } else {
                sums[owner] = vector
            }
        }
        return sums.map { $0.map(Self.normalized) }
    }

    /// `v / |v|` (a zero vector stays zero).
    public static func normalized(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        return norm > 0 ? v.map { Float(Double($0) / norm) } : v
    }

    public static func dot(_ a: [Float], _ b: [Float]) -> Float {
        var s: Float = 0
        for i in 0..<min(a.count, b.count) { s += a[i] * b[i] }
        return s
    }
}
