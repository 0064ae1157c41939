// BERT's pre-tokenizer, as Hugging Face tokenizers' `BertPreTokenizer`: split on whitespace
// (removed), then isolate every punctuation scalar as a word of its own.

public enum BertPreTokenizer {
    /// Words of normalized text, each as its Unicode scalars.
    public static func split(_ text: String) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for scalar in text.unicodeScalars {
            if BertNormalizer.isWhitespace(scalar) {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
            } else if isPunctuation(scalar) {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
                words.append([scalar])
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// ASCII punctuation (which includes symbols such as $ + < = > ^ ` | ~) and Unicode's
    /// punctuation categories Pc, Pd, Ps, Pe, Pi, Pf, Po (tokenizers' `is_bert_punc`).
    @inline(__always)
    public static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
        case 0..<0x80: return false
        default:
            if BertUnicode.referencePunctuation.contains(scalar.value) { return true }
            if BertUnicode.isUnknownToReference(scalar) { return false }
            switch scalar.properties.generalCategory {
            case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                 .initialPunctuation, .finalPunctuation, .otherPunctuation:
                return true
            default:
                return false
            }
        }
    }
}
