import ArgumentParser
import Foundation
import MarqueeAnalysis
import MarqueeCatalog

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write OUT/report.html: every catalogued title's stills, tags, shot timeline and nearest titles.",
        discussion: """
            The page is self-contained (inline CSS, no network); its images are the stills in each \
            title's folder, referenced relatively, so OUT can be moved or served as it is. Once every \
            image has loaded, the page's <body> gets data-images-state="all-loaded" ("broken" when one failed).
            """
    )

    @Option(help: "Nearest titles listed per title (by the fused embedding).")
    var nearest: Int = 3

    @Argument(help: "The output folder of `marquee batch` or `marquee analyze` (holding catalog.sqlite).")
    var out: String

    func validate() throws {
        guard (1...50).contains(nearest) else { throw ValidationError("--nearest must be between 1 and 50.") }
    }

    func run() throws {
        let catalogPath = (out as NSString).appendingPathComponent("catalog.sqlite")
        guard FileManager.default.fileExists(atPath: catalogPath) else {
            throw CommandFailure(message: "\(catalogPath): no catalog here; run `marquee batch` first.")
        }
        let catalog = try Catalog(path: catalogPath)
        let analyses = try catalog.analyses()
        let fused = try catalog.embeddings(.fused)
        let html = ReportPage.render(analyses: analyses, neighbours: { analysis in
            guard let vector = analysis.embeddings.fused else { return [] }
            return Similarity.nearest(to: vector, in: fused, k: nearest, excluding: analysis.titleId)
        })
        let path = (out as NSString).appendingPathComponent("report.html")
        try AtomicFile.write(Data(html.utf8), to: path)
        Terminal.write("\(analyses.count) titles; report written to \(path)\n", to: .standardError)
        Terminal.write(path + "\n")
    }
}

enum ReportPage {
    static func render(analyses: [TitleAnalysis], neighbours: (TitleAnalysis) -> [SimilarTitle]) -> String {
        var body = "<header><h1>Marquee catalog</h1><p>\(analyses.count) titles</p><nav>"
        body += analyses.map { "<a href=\"#title-\(escape($0.titleId))\">\(escape($0.titleId))</a>" }.joined(separator: " · ")
        body += "</nav></header>\n"
        for analysis in analyses { body += section(analysis, neighbours: neighbours(analysis)) }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Marquee catalog</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>\(css)</style></head>
            <body data-images-state="loading">
            \(body)
            <script>\(script)</script>
            </body></html>

            """
    }

    private static func section(_ a: TitleAnalysis, neighbours: [SimilarTitle]) -> String {
        let id = escape(a.titleId)
        let duration = a.media.duration ?? a.shots.map { Double($0.frames) / max($0.fps, 1) } ?? 0
        var facts: [String] = [URL(fileURLWithPath: a.source.path).lastPathComponent, String(format: "%.1f s", duration)]
        if let video = a.media.videoStreams.first, let w = video.width, let h = video.height { facts.append("\(w)x\(h)") }
        if let shots = a.shots { facts.append("\(shots.list.count) shots") }
        if let lufs = a.loudness?.integratedLUFS { facts.append(String(format: "%.1f LUFS", lufs)) }
        if let missing = a.fusion?.missing, !missing.isEmpty { facts.append("no " + missing.joined(separator: ", ")) }
        var html = "<section class=\"title\" id=\"title-\(id)\" data-title-id=\"\(id)\"><h2>\(id)</h2>"
        html += "<p class=\"facts\">\(facts.map(escape).joined(separator: " · "))</p>"
        let artwork = a.artwork.candidates
        if !artwork.isEmpty {
            html += "<h3>Artwork candidates</h3><div class=\"strip\">"
            for art in artwork.sorted(by: { $0.rank < $1.rank }) {
                html += "<figure><img src=\"\(id)/\(escape(art.file))\" alt=\"artwork \(art.rank)\"><figcaption>#\(art.rank) · "
                    + String(format: "%.2f", art.score) + " · \(time(art.time))</figcaption></figure>"
            }
            html += "</div>"
        }
        if !a.keyframes.isEmpty {
            html += "<h3>Longest shots</h3><div class=\"strip\">"
            for still in a.keyframes {
                html += "<figure><img src=\"\(id)/\(escape(still.file))\" alt=\"shot \(still.shot + 1)\">"
                    + "<figcaption>shot \(still.shot + 1) · \(time(still.time))</figcaption></figure>"
            }
            html += "</div>"
        }
        if let shots = a.shots, duration > 0 {
            html += "<h3>Shot timeline</h3><div class=\"timeline\">"
            for (index, shot) in shots.list.enumerated() {
                let width = max(0, (shot.end - shot.start) / duration * 100)
                let kind = shot.transition?.kind.rawValue ?? "start"
                html += "<span class=\"shot \(index % 2 == 0 ? "even" : "odd") \(kind)\" style=\"width:\(String(format: "%.3f", width))%\" "
                    + "title=\"shot \(index + 1): \(time(shot.start))–\(time(shot.end)) (\(kind))\"></span>"
            }
            html += "</div>"
        }
        html += "<div class=\"tags\">"
        html += tagColumn("Visual", a.tags.visual.prefix(8).map { ($0.label, Double($0.score)) })
        html += tagColumn("Audio", a.tags.audio.prefix(8).map { ($0.label, Double($0.score)) })
        if let text = a.tags.text {
            html += tagColumn("Text themes", text.themes.prefix(8).map { ($0.label, Double($0.score)) })
            html += tagColumn("Keyphrases", text.keyphrases.prefix(8).map { ($0.phrase, Double($0.score)) })
        } else {
            html += tagColumn("Text", [])
        }
        html += "</div><h3>Nearest titles</h3><ol class=\"nearest\">"
        html += neighbours.map { "<li><a href=\"#title-\(escape($0.titleId))\">\(escape($0.titleId))</a> "
            + String(format: "%.3f", $0.score) + "</li>" }.joined()
        if neighbours.isEmpty { html += "<li>none</li>" }
        html += "</ol></section>\n"
        return html
    }

    private static func tagColumn(_ heading: String, _ tags: [(String, Double)]) -> String {
        var html = "<div class=\"column\"><h3>\(escape(heading))</h3>"
        if tags.isEmpty { html += "<p class=\"none\">none</p>" }
        for (label, score) in tags {
            let width = min(max(score, 0), 1) * 100
            html += "<div class=\"tag\"><span class=\"label\">\(escape(label))</span><span class=\"bar\"><span style=\"width:"
                + String(format: "%.1f", width) + "%\"></span></span><span class=\"score\">" + String(format: "%.2f", score) + "</span></div>"
        }
        return html + "</div>"
    }

    private static func time(_ seconds: Double) -> String {
        let s = max(0, seconds)
        return String(format: "%d:%04.1f", Int(s) / 60, s.truncatingRemainder(dividingBy: 60))
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    private static let css = """
        body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:16px;color:#222;background:#fafafa}
        header nav a{margin:0 2px}section.title{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 16px;margin:16px 0}
        h2{margin:0 0 4px}h3{font-size:13px;margin:12px 0 4px;color:#555;text-transform:uppercase;letter-spacing:.04em}
        .facts{color:#666;margin:0}.strip{display:flex;gap:6px;overflow-x:auto}.strip figure{margin:0}
        .strip img{height:96px;display:block;border-radius:3px}.strip figcaption{font-size:11px;color:#666}
        .timeline{display:flex;height:18px;border:1px solid #ccc;border-radius:3px;overflow:hidden}
        .shot{display:block;height:100%}.shot.even{background:#4a7bd0}.shot.odd{background:#9db8e8}
        .shot.gradual{background:repeating-linear-gradient(45deg,#e0a030,#e0a030 3px,#f3d08a 3px,#f3d08a 6px)}
        .tags{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:12px}
        .tag{display:grid;grid-template-columns:1fr 90px 40px;gap:6px;align-items:center;font-size:12px}
        .tag .label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.bar{background:#eee;height:8px;border-radius:4px;overflow:hidden}
        .bar span{display:block;height:100%;background:#2e8b57}.score{text-align:right;color:#666}.none{color:#999}
        """

    /// Marks the page once every image has finished loading: "all-loaded" when each has pixels.
    private static let script = """
        (function(){function check(){var imgs=Array.prototype.slice.call(document.images);
        var ok=imgs.filter(function(i){return i.complete&&i.naturalWidth>0;}).length;
        document.body.setAttribute('data-images-loaded',ok+'/'+imgs.length);
        if(imgs.every(function(i){return i.complete;})){document.body.setAttribute('data-images-state',ok===imgs.length?'all-loaded':'broken');}
        else{setTimeout(check,50);}}
        if(document.readyState==='complete'){check();}else{window.addEventListener('load',check);}})();
        """
}
