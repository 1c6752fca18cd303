import Foundation

/// All tensors of a checkpoint folder (one `model.safetensors` or the shards listed in
/// `model.safetensors.index.json`), looked up by canonical name.
///
/// Tensor names differ between transformers versions; `sanitize` maps each stored name to the one
/// canonical layout the models read (see `TensorNames.canonical`). Errors name the file and the
/// tensor as stored.
public struct CheckpointWeights: Sendable {
    public let directory: URL
    public let files: [SafetensorsFile]
    /// canonical name → (file index, name as stored)
    private let locations: [String: (file: Int, stored: String)]

    public init(directory: URL, sanitize: (String) -> String = { $0 }) throws {
        self.directory = directory
        let fileManager = FileManager.default
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        let single = directory.appendingPathComponent("model.safetensors")
        var files: [SafetensorsFile] = []
        var locations: [String: (file: Int, stored: String)] = [:]
        if fileManager.fileExists(atPath: index.path) {
            let weightMap = try Self.readIndex(index)
            let shardNames = Array(Set(weightMap.values)).sorted()
            var fileIndex: [String: Int] = [:]
            for name in shardNames {
                let url = directory.appendingPathComponent(name)
                guard fileManager.fileExists(atPath: url.path) else {
                    throw CheckpointError.missingFile(url, what: "a shard listed in \(index.lastPathComponent)")
                }
                fileIndex[name] = files.count
                files.append(try SafetensorsFile(url: url))
            }
            for (stored, shard) in weightMap {
                guard let i = fileIndex[shard] else { continue }
                guard files[i].entries[stored] != nil else {
                    throw CheckpointError(
                        .missingTensor,
                        "\(files[i].url.path): no tensor named '\(stored)', though \(index.lastPathComponent) lists it there; the shards and the index do not match")
                }
                locations[sanitize(stored)] = (i, stored)
            }
        } else if fileManager.fileExists(atPath: single.path) {
            files = [try SafetensorsFile(url: single)]
            for stored in files[0].entries.keys { locations[sanitize(stored)] = (0, stored) }
        } else {
            throw CheckpointError.missingFile(single, what: "model.safetensors or model.safetensors.index.json")
        }
        self.files = files
        self.locations = locations
    }

    private static func readIndex(_ url: URL) throws -> [String: String] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError.missingFile(url, what: "the shard index")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let map = object["weight_map"] as? [String: String]
        else {
            throw CheckpointError.invalidConfig(url, "expected a JSON object with a \"weight_map\" of tensor name → shard file")
        }
        return map
    }

    /// Canonical names of every tensor present.
    public var names: [String] { locations.keys.sorted() }

    public func contains(_ name: String) -> Bool { locations[name] != nil }

    /// The tensor with canonical `name`; when `shape` is given, it must match exactly.
    public func tensor(_ name: String, shape: [Int]? = nil) throws -> Tensor {
        guard let location = locations[name] else {
            let where_ = files.count == 1 ? files[0].url.path : "\(directory.path) (\(files.count) shards)"
            throw CheckpointError(
                .missingTensor, "\(where_): no tensor for '\(name)' (in any of the name layouts lcb accepts); the checkpoint does not match its config.json")
        }
        let file = files[location.file]
        let tensor = try file.tensor(location.stored)
        if let shape, tensor.shape != shape {
            throw CheckpointError(
                .shapeMismatch,
                "\(file.url.path): tensor '\(location.stored)' has shape \(tensor.shape) but config.json implies \(shape); the weights and the config do not belong together")
        }
        return tensor
    }

    /// A dense linear layer from `<prefix>.weight` `[out, in]` and, if `bias`, `<prefix>.bias` `[out]`.
    public func linear(_ prefix: String, out: Int, in inFeatures: Int, bias: Bool) throws -> DenseLinear {
        let weight = try tensor(prefix + ".weight", shape: [out, inFeatures])
        let biasValues = bias ? try tensor(prefix + ".bias", shape: [out]).floats() : nil
        return DenseLinear(weight: weight, bias: biasValues)
    }

    /// A vector of `count` values widened to Float32.
    public func vector(_ name: String, count: Int) throws -> [Float] {
        try tensor(name, shape: [count]).floats()
    }

    /// Total bytes and elements per dtype over every readable tensor.
    public func storageSummary() -> [TensorDType: (tensors: Int, elements: Int, bytes: Int)] {
        var summary: [TensorDType: (tensors: Int, elements: Int, bytes: Int)] = [:]
        for file in files {
            for entry in file.entries.values {
                guard let dtype = TensorDType(rawValue: entry.dtype) else { continue }
                let elements = entry.shape.reduce(1, *)
                let old = summary[dtype] ?? (0, 0, 0)
                summary[dtype] = (old.tensors + 1, old.elements + elements, old.bytes + elements * dtype.byteSize)
            }
        }
        return summary
    }
}
