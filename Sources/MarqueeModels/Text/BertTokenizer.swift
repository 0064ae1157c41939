// The uncased BERT tokenizer of all-MiniLM-L6-v2 as sentence-transformers runs it
// (BertTokenizerFast from tokenizer.json): normalizer → pre-tokenizer → WordPiece, then
// [CLS] … [SEP], truncated on the right so that the whole sequence fits `maxLength`.

public struct BertTokenizer: Sendable {
    public let wordPiece: WordPiece
    /// Tokens per sequence, [CLS] and [SEP] included (sentence-transformers' max_seq_length).
    public let maxLength: Int

    public var vocabulary: WordPieceVocabulary { wordPiece.vocabulary }

    public init(vocabulary: WordPieceVocabulary, maxLength: Int = 256) {
        wordPiece = WordPiece(vocabulary: vocabulary)
        self.maxLength = max(2, maxLength)
    }

    public init(vocabularyPath: String, maxLength: Int = 256) throws {
        self.init(vocabulary: try WordPieceVocabulary(path: vocabularyPath), maxLength: maxLength)
    }

    /// The word-piece ids of `text`, without special tokens and untruncated.
    public func wordPieceIDs(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        for word in BertPreTokenizer.split(BertNormalizer.normalize(text)) {
            wordPiece.encode(word: word, into: &ids)
        }
        return ids
    }

    /// [CLS] + the first `maxLength - 2` word pieces + [SEP]: the model's input ids.
    public func encode(_ text: String) -> [Int32] {
        wrap(wordPieceIDs(text).prefix(maxLength - 2))
    }

    /// [CLS] + ids + [SEP].
    public func wrap<C: Collection>(_ ids: C) -> [Int32] where C.Element == Int32 {
        [vocabulary.classifierID] + ids + [vocabulary.separatorID]
    }

    /// Token texts of ids (for display; unknown ids are shown as [UNK]).
    public func tokens(_ ids: [Int32]) -> [String] {
        ids.map { Int($0) < vocabulary.tokens.count && $0 >= 0 ? vocabulary.tokens[Int($0)] : "[UNK]" }
    }
}
