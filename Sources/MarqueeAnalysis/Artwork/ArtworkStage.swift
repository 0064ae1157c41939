// The artwork stage of a decode pass, on a thread of its own.
//
// The decode loop hands it, in decode order, the sampled full-resolution frames (with their
// copy at EfficientNet's resize size) and the shots as they close. The stage computes the
// frames' EfficientNet features in batches, runs the face analyzer through the selector, and
// keeps only the frames that can still become candidates (ArtworkSelector's bound). A short
// queue keeps at most a few full-resolution frames in flight.

import MarqueeMedia
import MarqueeModels
import MarqueeNN

final class ArtworkStage {
    private enum Item {
        case frame(index: Int, time: Double, image: RGBImage, resized: RGBImage)
        case shotClosed(Shot)
    }

    private static let batchSize = 8
    private let queue = BoundedQueue<Item>(capacity: 8)
    private let job: BackgroundJob<(ArtworkSelector, Int)>

    /// `visualModel` must not be used by anyone else while the stage runs.
    init(visualModel: EfficientNetLite0, faces: FaceAnalyzing?, options: ArtworkSelector.Options, fps: Double) {
        var options = options
        options.streamingShots = true
        let queue = self.queue
        job = BackgroundJob(name: "marquee.artwork") {
            let selector = ArtworkSelector(options: options, faces: faces, fps: fps)
            var batch: [(index: Int, time: Double, image: RGBImage, resized: RGBImage)] = []
            var peak = 0
            func flush() {
                guard !batch.isEmpty else { return }
                let side = EfficientNetLite0.inputSize, width = EfficientNetLite0.featureCount
                let input = Tensor(shape: [batch.count, side, side, 3])
                for (i, item) in batch.enumerated() {
                    EfficientNetLite0.normalize(EfficientNetLite0.resizedCrop(item.resized), into: input, index: i)
                }
                let features = visualModel.forward(input).features.toArray()
                for (i, item) in batch.enumerated() {
                    selector.consider(ArtworkFrame(index: item.index, time: item.time, image: item.image,
                                                   features: Array(features[(i * width)..<((i + 1) * width)])))
                    peak = max(peak, selector.framesHeld)
                }
                batch.removeAll(keepingCapacity: true)
            }
            while let item = queue.take() {
                switch item {
                case let .frame(index, time, image, resized):
                    batch.append((index, time, image, resized))
                    if batch.count == Self.batchSize { flush() }
                case let .shotClosed(shot):
                    flush()  // the shot's frames must reach the selector before it closes
                    selector.closeShot(shot)
                }
            }
            flush()
            return (selector, peak)
        }
    }

    /// A sampled frame at full resolution and at EfficientNet's resize size (short side 256).
    func add(index: Int, time: Double, image: RGBImage, resized: RGBImage) {
        queue.put(.frame(index: index, time: time, image: image, resized: resized))
    }

    func shotClosed(_ shot: Shot) { queue.put(.shotClosed(shot)) }

    /// Ends the stage: the ranked candidates over the title's shots, and the most
    /// full-resolution frames held at once.
    func finish(shots: [Shot]) throws -> (selection: ArtworkSelection, peakFramesHeld: Int) {
        queue.close()
        let (selector, peak) = try job.join()
        return (selector.finish(shots: shots), peak)
    }

    /// Stops the stage after an error in the decode pass.
    func cancel() {
        queue.close()
        _ = try? job.join()
    }
}
