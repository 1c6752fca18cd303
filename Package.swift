// swift-tools-version:6.0
import PackageDescription

// One target per layer (see ../shared/DESIGN.md); dependencies point down only:
// lcb → Reporting → Execution → Planning → SpecLanguage; Execution → Engine, Quantization, Datasets;
// Quantization → Engine (its caches and packed linears implement the engine's protocols).
let package = Package(
    name: "lcb",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lcb", targets: ["lcb"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "Quantization", targets: ["Quantization"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
    ],
    targets: [
        // C shims: system libraries behind modulemaps; never visible in public API.
        .systemLibrary(name: "CLibYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CImageCodecs", providers: [.apt(["libpng-dev", "libjpeg62-turbo-dev"])]),
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // libpng/libjpeg report errors by longjmp, which Swift cannot catch: the decode calls that
        // need setjmp live in this small C target.
        .target(name: "CImageSupport", linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg")]),
        // The result store's SQLite (system libsqlite3, as GRDB's GRDBSQLite target does it).
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // gzip for the committed form of samples.jsonl (system zlib).
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),

        // Spec: YAML front end, typed spec, checker, diagnostics.
        .target(name: "SpecLanguage", dependencies: [
            "CLibYAML",
            .product(name: "Collections", package: "swift-collections"),
        ]),
        // Planning: cells, job graph, content keys, dedup, cost model.
        .target(name: "Planning", dependencies: [
            "SpecLanguage",
            .product(name: "Collections", package: "swift-collections"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Engine: tensors, kernels, safetensors, tokenizer, images, models, generation.
        .target(name: "Engine", dependencies: ["CImageCodecs", "CImageSupport", "CKernels"]),
        // Quantization: weight and KV-cache quantizers, packed formats, their kernels.
        .target(name: "Quantization", dependencies: ["Engine", "CKernels"]),
        // Datasets: loaders for the real benchmark formats and the synthetic suite; metrics.
        .target(name: "Datasets", dependencies: [
            "CImageCodecs",
            .product(name: "Collections", package: "swift-collections"),
        ]),
        // Execution: scheduler, result store, feature cache, provenance.
        .target(name: "Execution", dependencies: [
            "Planning", "Engine", "Quantization", "Datasets", "CSQLite", "CZlib",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Reporting: result tables, renderers, templates, diff + statistics.
        .target(name: "Reporting", dependencies: [
            "Execution", "SpecLanguage", "Datasets",
            .product(name: "Collections", package: "swift-collections"),
        ]),
        // CLI: argument parsing and wiring only.
        .executableTarget(name: "lcb", dependencies: [
            "SpecLanguage", "Planning", "Engine", "Quantization", "Datasets", "Execution", "Reporting",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SpecLanguageTests", dependencies: ["SpecLanguage", "TestSupport"]),
        .testTarget(name: "PlanningTests", dependencies: ["Planning", "SpecLanguage", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "TestSupport"]),
        .testTarget(name: "QuantizationTests", dependencies: ["Quantization", "Engine", "TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "TestSupport"]),
        .testTarget(name: "ExecutionTests", dependencies: [
            "Execution", "Planning", "SpecLanguage", "Engine", "Datasets", "TestSupport",
        ]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "SpecLanguage", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
