// The threads of one title's pipeline: a job that runs beside the caller (the audio and text
// pass beside the video pass) and a bounded hand-off queue (sampled frames from the video
// thread to the visual model's thread), so that decoding and the networks overlap on the
// cores while the frames in flight stay few.

import Foundation

/// Runs `body` on a thread of its own; `join()` waits for it and returns or rethrows its result.
final class BackgroundJob<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var result: Result<Value, Error>?

    init(name: String, _ body: @escaping () throws -> Value) {
        nonisolated(unsafe) let body = body
        let thread = Thread { [self] in
            let outcome = Result { try body() }
            condition.lock()
            result = outcome
            condition.broadcast()
            condition.unlock()
        }
        thread.name = name
        // The networks' stacks are deep only through Swift closures; 8 MB like the main thread.
        thread.stackSize = 8 << 20
        thread.start()
    }

    func join() throws -> Value {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return try result!.get()
    }
}

/// A first-in first-out queue of at most `capacity` items between one producer and one consumer.
/// `put` waits while it is full; `take` waits while it is empty and returns nil once closed and drained.
final class BoundedQueue<Item>: @unchecked Sendable {
    private let condition = NSCondition()
    private let capacity: Int
    // Guarded by `condition`.
    private var items: [Item] = []
    private var closed = false

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    func put(_ item: Item) {
        condition.lock()
        while items.count >= capacity && !closed { condition.wait() }
        if !closed { items.append(item) }
        condition.broadcast()
        condition.unlock()
    }

    /// No more items: the consumer drains what is queued, then gets nil.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    func take() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        guard !items.isEmpty else { return nil }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }
}
