// BERT's normalizer, as Hugging Face tokenizers' `BertNormalizer` (clean_text,
// handle_chinese_chars, strip_accents, lowercase — all on for uncased models) applies it
// before pre-tokenization. Works on Unicode scalars, never on grapheme clusters: an emoji
// sequence joined by U+200D is three scalars to the reference, and so it is here.
import Foundation

public enum BertNormalizer {
    /// The normalized text: control characters dropped, whitespace made a plain space, CJK
    /// ideographs padded with spaces, accents stripped (NFD, then nonspacing marks removed),
    /// then lower-cased one scalar at a time.
    public static func normalize(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        // Scalars since the last one unknown to the reference, which is a barrier to NFD's
        // reordering of marks (to the reference it is an unknown starter) and passes through.
        var segment = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if BertUnicode.isUnknownToReference(scalar) {
                stripAccentsAndLowercase(segment, into: &result)
                segment.removeAll(keepingCapacity: true)
                result.append(scalar)
                continue
            }
            // clean_text: drop NUL, U+FFFD and control, format and private-use scalars (\t \n \r
            // are kept as whitespace; unassigned ones are kept), and map whitespace to " ".
            // handle_chinese_chars: " " + ideograph + " ".
            if scalar.value == 0 || scalar.value == 0xFFFD || isControl(scalar) { continue }
            if isWhitespace(scalar) {
                segment.append(" ")
            } else if isChineseCharacter(scalar) {
                segment.append(" ")
                segment.append(scalar)
                segment.append(" ")
            } else {
                segment.append(scalar)
            }
        }
        stripAccentsAndLowercase(segment, into: &result)
        return String(result)
    }

    /// strip_accents: NFD, then nonspacing marks (Mn) removed; then lowercase, one scalar at a
    /// time with the full mapping, as Rust's char::to_lowercase (no context). Lower-casing comes
    /// after stripping, as in the reference, so a mark it produces (İ → i̇) would stay; NFD has
    /// already split İ into I + U+0307, whose mark is stripped first.
    static func stripAccentsAndLowercase(_ segment: String.UnicodeScalarView, into result: inout String.UnicodeScalarView) {
        guard !segment.isEmpty else { return }
        let decomposed = String(segment).decomposedStringWithCanonicalMapping
        for scalar in decomposed.unicodeScalars where !isNonspacingMark(scalar) {
            let lower = scalar.properties.lowercaseMapping.unicodeScalars
            if lower.count == 1 && lower.first == scalar {
                result.append(scalar)
            } else {
                result.append(contentsOf: lower)
            }
        }
    }

    @inline(__always)
    static func isNonspacingMark(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x300 { return false }
        if BertUnicode.referenceNonspacingMarks.contains(scalar.value) { return true }
        if BertUnicode.referencePunctuation.contains(scalar.value) { return false }
        return scalar.properties.generalCategory == .nonspacingMark
    }

    /// Whitespace as the reference sees it: \t \n \r, and Unicode's White_Space property
    /// (Rust's char::is_whitespace).
    @inline(__always)
    public static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D, 0x20: return true
        case 0..<0x80: return false
        default: return scalar.properties.isWhitespace
        }
    }

    /// Control, format and private-use scalars (Cc, Cf, Co), except \t \n \r, which are
    /// whitespace. Unassigned scalars are not dropped: the reference keeps them.
    @inline(__always)
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: return false
        case 0x20..<0x7F: return false
        default:
            switch scalar.properties.generalCategory {
            case .control, .format, .privateUse: return true
            default: return false
            }
        }
    }

    /// The CJK Unified Ideographs blocks BERT treats as words of their own (the ranges of
    /// tokenizers' `is_chinese_char`). Hangul, kana and CJK punctuation are not among them.
    @inline(__always)
    public static func isChineseCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
