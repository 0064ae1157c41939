import Foundation
import MarqueeNN

/// Where converted weights live: `$MARQUEE_MODELS`, else the nearest `Models/converted`
/// above the running executable (a build inside the repository), else `Models/converted`
/// under the current directory.
public struct ModelStore: Sendable {
    public let folder: String

    public init(folder: String) { self.folder = folder }

    public static func locate() -> ModelStore {
        if let configured = ProcessInfo.processInfo.environment["MARQUEE_MODELS"], !configured.isEmpty {
            return ModelStore(folder: configured)
        }
        var directory = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
            .deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("Models/converted")
            if FileManager.default.fileExists(atPath: candidate.path) { return ModelStore(folder: candidate.path) }
            directory.deleteLastPathComponent()
        }
        return ModelStore(folder: FileManager.default.currentDirectoryPath + "/Models/converted")
    }

    public func path(_ file: String) -> String { (folder as NSString).appendingPathComponent(file) }

    public func efficientNetLite0(pool: ThreadPool = .shared) throws -> EfficientNetLite0 {
        try EfficientNetLite0(weightsPath: path("efficientnet_lite0.safetensors"),
                              labelsPath: path("imagenet_labels.txt"), pool: pool)
    }

    public func transNetV2(pool: ThreadPool = .shared) throws -> TransNetV2 {
        try TransNetV2(weightsPath: path("transnetv2.safetensors"), pool: pool)
    }
}

extension ModelStore {
    public func musiCNN(pool: ThreadPool = .shared) throws -> MusiCNN {
        try MusiCNN(weightsPath: path("musicnn_mtt.safetensors"), labelsPath: path("musicnn_mtt_labels.txt"), pool: pool)
    }
}
