// What the benchmark executables share: their command line, the repository they run in,
// clocks, and how they report a failure.

import Foundation

/// The repository's root folder (this file is Benchmarks/BenchmarkSupport/BenchmarkSupport.swift).
public let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The command line's arguments; options and flags are taken out as they are read, so that
/// what remains are the positional arguments (files).
public struct BenchmarkArguments {
    public private(set) var remaining = Array(CommandLine.arguments.dropFirst())

    public init() {}

    /// The value after `name` (`--threads 2`), or nil when `name` is not given.
    public mutating func option(_ name: String) -> String? {
        guard let i = remaining.firstIndex(of: name), i + 1 < remaining.count else { return nil }
        defer { remaining.removeSubrange(i...(i + 1)) }
        return remaining[i + 1]
    }

    /// Whether `name` (`--profile`) is given.
    public mutating func flag(_ name: String) -> Bool {
        guard let i = remaining.firstIndex(of: name) else { return false }
        remaining.remove(at: i)
        return true
    }
}

public func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(1)
}

public func warn(_ message: String) {
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}

/// Seconds on the monotonic clock.
public func now() -> Double {
    seconds(CLOCK_MONOTONIC)
}

/// CPU seconds used by this process's threads: unlike wall time, not inflated when another
/// process holds a core.
public func cpuNow() -> Double {
    seconds(CLOCK_PROCESS_CPUTIME_ID)
}

private func seconds(_ clock: clockid_t) -> Double {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
