import CFFmpeg
import Foundation

/// Runs a FrameReader on a thread of its own (its owner calls `cancel()` when done with it) and hands decoded frames (new references to
/// the same buffers, not copies) to the consumer through a small bounded queue, so that
/// converting one frame overlaps decoding the next. Memory is bounded by `capacity` frames.
final class FramePrefetcher: @unchecked Sendable {
    struct Item {
        let frame: Frame
        let seconds: Double?
    }

    private let reader: FrameReader
    private let capacity: Int
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [Item] = []
    private var finished = false
    private var failure: Error?
    private var cancelled = false
    private var threadDone = false

    init(reader: FrameReader, capacity: Int = 4, readTimeout: Double) {
        self.reader = reader
        self.capacity = capacity
        let thread = Thread { [self] in produce(readTimeout: readTimeout) }
        thread.name = "marquee.decode"
        thread.start()
    }

    /// The next decoded frame, nil at the end; rethrows the decoding thread's error.
    func next() throws -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !finished { condition.wait() }
        if !queue.isEmpty {
            let item = queue.removeFirst()
            condition.broadcast()
            return item
        }
        if let failure { throw failure }
        return nil
    }

    /// Stops the decoding thread and waits for it; the reader is the caller's again after this.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while !threadDone { condition.wait() }
        queue.removeAll()
        condition.unlock()
    }

    private func produce(readTimeout: Double) {
        defer {
            condition.lock()
            finished = true
            threadDone = true
            condition.broadcast()
            condition.unlock()
        }
        do {
            while true {
                reader.file.extendDeadline(seconds: readTimeout)
                condition.lock()
                let stop = cancelled
                condition.unlock()
                if stop { return }
                guard try reader.nextFrame() else { return }
                guard let clone = av_frame_clone(reader.frame.pointer) else {
                    throw MediaError(path: reader.file.path, reason: .other("out of memory while decoding"))
                }
                let item = Item(frame: Frame(owning: clone), seconds: reader.frameSeconds)
                condition.lock()
                while queue.count >= capacity && !cancelled { condition.wait() }
                if !cancelled { queue.append(item) }
                condition.broadcast()
                condition.unlock()
            }
        } catch {
            condition.lock()
            failure = error
            condition.unlock()
        }
    }
}
