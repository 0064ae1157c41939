// Splits kernel work across the machine's cores.
import CCPUHints
import Foundation
import Synchronization

/// Runs a loop's items on up to `threadCount` threads: the caller and `threadCount - 1`
/// helper threads of the pool's own.
///
/// A network at batch 1 is a chain of short parallel loops (EfficientNet-Lite0: about 50 of
/// 50–400 µs each). Waking a sleeping thread costs 15–20 µs on this kind of virtual machine,
/// so with libdispatch's `concurrentPerform` a 100 µs loop ran on two cores at only 74% of
/// twice its serial speed. The helpers therefore spin for a while after each loop
/// (`spinSeconds`), where the next loop of the same network finds them awake, and only then
/// sleep; the same 100 µs loop then runs at 96%.
///
/// The items are cut into a few contiguous ranges per thread and each thread takes the next
/// free range: when another process or Marquee's own decoder holds a core, the caller does
/// the rest instead of waiting for a helper. One loop at a time owns the helpers; a loop
/// started meanwhile, from another thread or from inside a loop's body, runs on its caller's
/// thread, as it would if the helpers were its own: the cores are busy either way.
public final class ThreadPool: Sendable {
    public let threadCount: Int
    private let crew: Crew?

    /// One thread per active processor.
    public static let shared = ThreadPool(threadCount: ProcessInfo.processInfo.activeProcessorCount)
    /// Runs everything on the calling thread.
    public static let serial = ThreadPool(threadCount: 1)

    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        crew = threadCount > 1 ? Crew(helperCount: threadCount - 1) : nil
    }

    deinit { crew?.dismiss() }

    /// Below this many floating-point operations a kernel runs on the calling thread.
    public static let minimumParallelWork = 200_000

    /// Ranges per thread: enough to even out a stalled thread, few enough that per-range
    /// setup (scratch buffers, a GEMM's row pointers) stays negligible.
    static let rangesPerThread = 4

    /// Calls `body` with disjoint ranges that together cover `0..<count`.
    /// `work` estimates the total floating-point operations, to skip threading small jobs.
    public func parallelFor(count: Int, work: Int = .max, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let tasks = work < ThreadPool.minimumParallelWork ? 1 : min(threadCount, count)
        guard tasks > 1, let crew, crew.claim() else {
            body(0..<count)
            return
        }
        defer { crew.release() }
        let ranges = min(count, tasks * Self.rangesPerThread)
        withoutActuallyEscaping(body) { body in
            crew.run(rangeCount: ranges) { r in body((count * r / ranges)..<(count * (r + 1) / ranges)) }
        }
    }
}

/// A pool's helper threads and the one loop they share.
///
/// A loop is published by storing its body, reopening `entry` and bumping `generation`.
/// A helper joins by counting itself into `entry` while it is open, takes ranges until none
/// are left and counts itself out in `left`. The caller, out of ranges, closes `entry` and
/// waits only for the helpers that joined, so a helper that was asleep or descheduled never
/// delays a loop it took no part in.
private final class Crew: @unchecked Sendable {
    /// How long a helper spins for the next loop before it sleeps.
    static let spinSeconds = 100e-6
    /// `entry`'s closed bit; the bits below count the helpers that joined.
    static let closed = 1 << 32

    let owned = Atomic<Bool>(false)
    let generation = Atomic<Int>(0)
    let entry = Atomic<Int>(closed)
    let left = Atomic<Int>(0)
    let nextRange = Atomic<Int>(0)
    let sleepers = Atomic<Int>(0)
    let dismissed = Atomic<Bool>(false)
    let wakeUp = NSCondition()
    // Written by the owning caller while `entry` is closed; read by helpers that joined.
    nonisolated(unsafe) var body: ((Int) -> Void)?
    nonisolated(unsafe) var rangeCount = 0

    init(helperCount: Int) {
        for i in 0..<helperCount {
            let thread = Thread { [self] in helperLoop() }
            thread.name = "marquee-pool-\(i + 1)"
            // Kernels keep scratch rows on the stack; 8 MB like the main thread.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    func claim() -> Bool {
        owned.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    func release() {
        owned.store(false, ordering: .releasing)
    }

    /// Runs `body(0..<rangeCount)` on the caller and whichever helpers join.
    func run(rangeCount: Int, _ body: @escaping (Int) -> Void) {
        self.body = body
        self.rangeCount = rangeCount
        nextRange.store(0, ordering: .relaxed)
        left.store(0, ordering: .relaxed)
        entry.store(0, ordering: .releasing)
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            wakeUp.lock()
            wakeUp.broadcast()
            wakeUp.unlock()
        }
        takeRanges(body)
        let joined = entry.bitwiseOr(Self.closed, ordering: .acquiringAndReleasing).oldValue
        var spins = 0
        while left.load(ordering: .acquiring) < joined {
            marquee_spin_pause()
            spins += 1
            // A helper that joined but lost its core: let it run.
            if spins % 1024 == 0 { sched_yield() }
        }
        self.body = nil
    }

    func takeRanges(_ body: (Int) -> Void) {
        while true {
            let r = nextRange.wrappingAdd(1, ordering: .relaxed).oldValue
            if r >= rangeCount { return }
            body(r)
        }
    }

    func dismiss() {
        dismissed.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        wakeUp.lock()
        wakeUp.broadcast()
        wakeUp.unlock()
    }

    private func helperLoop() {
        // Not the current generation: a helper thread may start after its first loop, or
        // after its pool is gone, and must not wait for a loop that has already come.
        var seen = 0
        while true {
            waitForLoop(after: seen)
            seen = generation.load(ordering: .acquiring)
            if dismissed.load(ordering: .acquiring) { return }
            if join() {
                helpWithLoop()
                left.add(1, ordering: .releasing)
            }
        }
    }

    /// Spins until `generation` moves past `seen`, for up to `spinSeconds`, then sleeps.
    private func waitForLoop(after seen: Int) {
        let deadline = monotonicSeconds() + Self.spinSeconds
        var spins = 0
        while generation.load(ordering: .acquiring) == seen {
            marquee_spin_pause()
            spins += 1
            if spins % 256 == 0 && monotonicSeconds() > deadline {
                wakeUp.lock()
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen { wakeUp.wait() }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                wakeUp.unlock()
                return
            }
        }
    }

    /// Counts this helper into the open loop, if there is one.
    private func join() -> Bool {
        var state = entry.load(ordering: .acquiring)
        while state & Self.closed == 0 {
            let (exchanged, original) = entry.compareExchange(expected: state, desired: state + 1, ordering: .acquiring)
            if exchanged { return true }
            state = original
        }
        return false
    }

    /// Its own function, so that the helper's reference to the body is gone by the time it
    /// counts itself out (`withoutActuallyEscaping` checks that nothing kept the body).
    @inline(never)
    private func helpWithLoop() {
        guard let body else { return }
        takeRanges(body)
    }
}

private func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
