// swift-tools-version:6.0
import Foundation
import PackageDescription

// Release builds compile Swift and C for the machine they run on: the default x86-64
// target has no FMA, and the inference kernels live on it.
let nativeCPU: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-march=native"], .when(configuration: .release)),
]

// MarqueeMedia's AVX2 code (SwscaleBicubic.swift) is compiled only where the native CPU has
// AVX2; elsewhere frames go through libswscale itself.
let nativeCPUHasAVX2 = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.contains(" avx2") ?? false
let mediaSettings = nativeCPU + (nativeCPUHasAVX2 ? [.define("MARQUEE_AVX2", .when(configuration: .release))] : [])

let package = Package(
    name: "Marquee",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "marquee", targets: ["marquee"]),
        .library(name: "MarqueeMedia", targets: ["MarqueeMedia"]),
        .library(name: "MarqueeNN", targets: ["MarqueeNN"]),
        .library(name: "MarqueeModels", targets: ["MarqueeModels"]),
        .library(name: "MarqueeAnalysis", targets: ["MarqueeAnalysis"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat libavcodec libavutil libswscale libswresample",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev"])]
        ),
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CCPUHints"),

        .target(name: "MarqueeMedia", dependencies: ["CFFmpeg", "CSndFile", "CPNG", "CCPUHints"], swiftSettings: mediaSettings),
        .target(name: "MarqueeNN", dependencies: ["CCPUHints"], swiftSettings: nativeCPU),
        .target(name: "MarqueeModels", dependencies: ["MarqueeNN", "MarqueeMedia"], swiftSettings: nativeCPU),
        .target(name: "MarqueeAnalysis", dependencies: ["MarqueeModels", "MarqueeMedia"], swiftSettings: nativeCPU),
        .target(name: "MarqueeCatalog", dependencies: ["MarqueeAnalysis", .product(name: "GRDB", package: "GRDB.swift")],
                swiftSettings: nativeCPU),

        .executableTarget(
            name: "marquee",
            dependencies: [
                "MarqueeMedia",
                "MarqueeModels",
                "MarqueeAnalysis",
                "MarqueeCatalog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: nativeCPU
        ),
        .executableTarget(name: "marquee-bench-decode", dependencies: ["MarqueeMedia", "BenchmarkSupport"], path: "Benchmarks/DecodeBenchmark", swiftSettings: nativeCPU),
        .executableTarget(name: "marquee-bench-kernels", dependencies: ["MarqueeNN"], path: "Benchmarks/KernelBenchmark", swiftSettings: nativeCPU),

        .target(name: "BenchmarkSupport", path: "Benchmarks/BenchmarkSupport"),
        .executableTarget(name: "marquee-bench-musicnn", dependencies: ["MarqueeAnalysis", "MarqueeModels", "MarqueeNN", "MarqueeMedia", "BenchmarkSupport"], path: "Benchmarks/MusiCNNBenchmark", swiftSettings: nativeCPU),
        .executableTarget(name: "marquee-bench-shots", dependencies: ["MarqueeAnalysis", "MarqueeModels", "MarqueeNN", "MarqueeMedia", "BenchmarkSupport"], path: "Benchmarks/ShotsBenchmark", swiftSettings: nativeCPU),
        .executableTarget(name: "marquee-bench-minilm", dependencies: ["MarqueeAnalysis", "MarqueeNN"], path: "Benchmarks/MiniLMBenchmark", swiftSettings: nativeCPU),
        .executableTarget(name: "marquee-bench-faces", dependencies: ["MarqueeModels", "MarqueeNN", "MarqueeMedia", "BenchmarkSupport"], path: "Benchmarks/FacesBenchmark", swiftSettings: nativeCPU),
        .executableTarget(name: "marquee-bench-analyze", dependencies: ["BenchmarkSupport"], path: "Benchmarks/AnalyzeBenchmark", swiftSettings: nativeCPU),
        .executableTarget(name: "marquee-bench-efficientnet", dependencies: ["MarqueeModels", "MarqueeNN", "MarqueeMedia", "BenchmarkSupport"], path: "Benchmarks/EfficientNetBenchmark", swiftSettings: nativeCPU),
        .testTarget(name: "MarqueeMediaTests", dependencies: ["MarqueeMedia"]),
        .testTarget(name: "MarqueeNNTests", dependencies: ["MarqueeNN"]),
        .testTarget(name: "MarqueeModelsTests", dependencies: ["MarqueeModels"], exclude: ["Goldens"]),
        .testTarget(name: "MarqueeAnalysisTests", dependencies: ["MarqueeAnalysis"], exclude: ["Fixtures"]),
        .testTarget(name: "MarqueeCatalogTests", dependencies: ["MarqueeCatalog"]),
        // Runs the built `marquee` executable; `swift build` before `swift test` builds it.
        .testTarget(name: "MarqueeCLITests", dependencies: ["marquee"]),
    ]
)
