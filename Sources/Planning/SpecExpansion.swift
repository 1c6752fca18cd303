import SpecLanguage

extension Spec {
    /// The cells of every experiment, in spec order: experiments, then models, then compression
    /// configurations, then datasets.
    ///
    /// Expects a spec the checker accepted; a reference that does not resolve (which the checker
    /// reports as an error) contributes no cells rather than failing here.
    public func cells(specFile: String? = nil) -> [Cell] {
        let file = specFile ?? files.first ?? name
        var cells: [Cell] = []
        for experiment in experiments.values {
            let configurations = experiment.compression.flatMap(expandedConfigurations)
            for modelName in experiment.models {
                guard let model = models[modelName] else { continue }
                let modelDescriptor = ModelDescriptor(model)
                for configuration in configurations {
                    for datasetName in experiment.datasets {
                        guard let dataset = datasets[datasetName] else { continue }
                        cells.append(Cell(
                            model: modelDescriptor, weights: configuration.weights, kv: configuration.kv,
                            dataset: DatasetDescriptor(dataset), generation: experiment.generation,
                            sampleLimit: experiment.limit,
                            calibration: configuration.weights?.calibrationDataset
                                .flatMap { datasets[$0]?.source.canonical },
                            label: CellLabel(specFile: file, experiment: experiment.name, model: modelName,
                                             compression: configuration.name, dataset: datasetName)))
                    }
                }
            }
        }
        return cells
    }

    /// How many cells `cells()` would make, counted without making them (saturating, so a grid
    /// of billions of cells is reported, not allocated).
    public var plannedCellCount: Int {
        var total = 0
        for experiment in experiments.values {
            let configurations = experiment.compression.reduce(0) { $0 + expandedConfigurations($1).count }
            var cells = 1
            for factor in [experiment.models.count, experiment.datasets.count, configurations] {
                let (product, overflow) = cells.multipliedReportingOverflow(by: factor)
                cells = overflow ? Int.max : product
            }
            let (sum, overflow) = total.addingReportingOverflow(cells)
            total = overflow ? Int.max : sum
        }
        return total
    }

    /// A configuration name, or a definition name standing for all of its expansions.
    func expandedConfigurations(_ name: String) -> [CompressionConfiguration] {
        if let configuration = configurations[name] { return [configuration] }
        if name == CompressionConfiguration.fp16.name { return [.fp16] }
        guard let definition = compressionDefinitions[name] else { return [] }
        return definition.expandedNames.compactMap { configurations[$0] }
    }
}
