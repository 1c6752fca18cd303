import Datasets

// The Datasets module declares an enum `Datasets`, so `Datasets.Sample` does not name the
// module's type; and SpecLanguage has its own `DatasetFormat`, `SyntheticSuite` and
// `SyntheticProbe`. This file imports Datasets alone, so these names are unambiguous here.

/// A loaded dataset sample (Datasets' `Sample`).
public typealias DatasetSample = Sample
/// Datasets' on-disk format (the loaders' and metrics' notion of a format).
public typealias LoaderFormat = DatasetFormat
/// The synthetic suite generator.
typealias SyntheticSuiteGenerator = SyntheticSuite
/// The generator's probes.
typealias GeneratorProbe = SyntheticProbe
