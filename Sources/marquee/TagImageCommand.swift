import ArgumentParser
import Foundation
import MarqueeMedia
import MarqueeModels
import MarqueeNN

struct TagImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag-image",
        abstract: "Tag still images with ImageNet classes (EfficientNet-Lite0).",
        discussion: "Reads any image FFmpeg decodes. A file that cannot be read is reported and the others still run."
    )

    @Option(help: "Classes to report per image.")
    var top: Int = 5

    @Flag(help: "Print JSON: [{\"file\", \"top\": [{\"class\", \"label\", \"score\"}]}].")
    var json = false

    @Flag(help: "With --json, add the 1000 logits and the 1280-d features.")
    var raw = false

    @Argument(help: "Image files.")
    var images: [String]

    func validate() throws {
        guard (1...1000).contains(top) else { throw ValidationError("--top must be between 1 and 1000.") }
        guard !images.isEmpty else { throw ValidationError("Give at least one image.") }
    }

    struct Tag: Encodable {
        var `class`: Int
        var label: String
        var score: Float
    }

    struct ImageResult: Encodable {
        var file: String
        var top: [Tag]
        var logits: [Float]?
        var features: [Float]?
    }

    func run() throws {
        let model = try ModelStore.locate().efficientNetLite0()
        var results: [ImageResult] = []
        var failures = 0
        for path in images {
            do {
                let crop = EfficientNetLite0.resizedCrop(try StillImage.read(path: path))
                let input = Tensor(shape: [1, EfficientNetLite0.inputSize, EfficientNetLite0.inputSize, 3])
                EfficientNetLite0.normalize(crop, into: input, index: 0)
                let output = model.forward(input)
                let logits = output.logits.toArray()
                let tags = model.top(top, probabilities: EfficientNetLite0.probabilities(logits))
                    .map { Tag(class: $0.classIndex, label: $0.label, score: $0.score) }
                let result = ImageResult(file: path, top: tags, logits: raw ? logits : nil,
                                         features: raw ? output.features.toArray() : nil)
                if json {
                    results.append(result)
                } else {
                    Terminal.write(path + "\n" + tags.map { String(format: "  %6.2f%%  %@", $0.score * 100, $0.label) }
                        .joined(separator: "\n") + "\n")
                }
            } catch {
                Terminal.error("\(error)")
                failures += 1
            }
        }
        if json { try Terminal.printJSON(results) }
        if failures > 0 { throw ExitCode(1) }
    }
}
