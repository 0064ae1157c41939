/// Turns the ASS dialogue text that FFmpeg's text-subtitle decoders produce (SubRip, ASS,
/// mov_text and WebVTT all decode to ASS) into plain text.
enum SubtitleMarkup {
    /// `dialogue` is an ASS event as FFmpeg stores it in AVSubtitleRect.ass:
    /// "ReadOrder,Layer,Style,Name,MarginL,MarginR,MarginV,Effect,Text".
    static func plainText(fromASSEvent dialogue: String) -> String {
        var fields = 0
        var textStart = dialogue.startIndex
        for index in dialogue.indices where dialogue[index] == "," {
            fields += 1
            if fields == 8 {
                textStart = dialogue.index(after: index)
                break
            }
        }
        return plainText(fromASSText: fields == 8 ? String(dialogue[textStart...]) : dialogue)
    }

    /// Removes `{…}` override blocks and HTML-like tags, turns `\N`/`\n` into line breaks
    /// and `\h` into a space, and trims each line.
    static func plainText(fromASSText text: String) -> String {
        var out = ""
        var chars = Array(text)
        var i = 0
        // Drop override blocks first; a "{" without a closing "}" is kept as text.
        var stripped: [Character] = []
        while i < chars.count {
            if chars[i] == "{", let close = chars[i...].firstIndex(of: "}") {
                i = close + 1
                continue
            }
            stripped.append(chars[i])
            i += 1
        }
        chars = stripped
        i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\\", i + 1 < chars.count {
                switch chars[i + 1] {
                case "N", "n": out.append("\n"); i += 2; continue
                case "h": out.append(" "); i += 2; continue
                default: break
                }
            }
            if c == "<", let close = chars[i...].firstIndex(of: ">"), isTag(chars[(i + 1)..<close]) {
                i = close + 1
                continue
            }
            out.append(c)
            i += 1
        }
        return out.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: " \t\r") }
            .filter { !$0.isEmpty }
            .joined(separator: "\n")
    }

    /// `<i>`, `</font>`, `<font color="…">`, `<c.yellow>`, `<v Speaker>`: a tag, not text like "<3".
    private static func isTag(_ inner: ArraySlice<Character>) -> Bool {
        var body = inner[...]
        if body.first == "/" { body = body.dropFirst() }
        guard let first = body.first, first.isLetter else { return false }
        return !body.contains("<")
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self[...]
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
