/// Draws random scenes for the suite: distinct shapes and colours, no overlaps, inside the frame.
struct SceneSampler {
    let configuration: SyntheticSuiteConfiguration

    /// Extent of a shape of `radius` from its centre, over every kind (the diamond and the
    /// triangle reach furthest).
    static func reach(_ radius: Int) -> Double { Double(radius) * 1.2 }

    /// A scene of `count` objects with pairwise different shapes and pairwise different colours,
    /// so that "the circle" and "the red shape" always name one object.
    func scene(objects count: Int, using rng: inout SyntheticRandom) throws(SyntheticSuiteError) -> Scene {
        let count = min(count, configuration.shapes.count, configuration.colors.count)
        for _ in 0..<1000 {
            let shapes = rng.shuffled(configuration.shapes)
            let colors = rng.shuffled(configuration.colors)
            var placed: [SceneObject] = []
            for index in 0..<count {
                let radius = rng.int(in: configuration.radii)
                guard let position = place(radius: radius, among: placed, using: &rng) else { break }
                placed.append(SceneObject(shape: shapes[index], color: colors[index],
                                          x: position.x, y: position.y, radius: radius))
            }
            if placed.count == count { return Scene(size: configuration.imageSize, objects: placed) }
            // Crowded: draw the whole scene again (deterministic, since it consumes the same stream).
        }
        throw SyntheticSuiteError("cannot fit \(count) shapes of radius \(configuration.radii) into "
                                  + "\(configuration.imageSize)×\(configuration.imageSize) pixels; "
                                  + "use a larger image size, smaller radii or fewer objects")
    }

    /// A free position for a new object, or nil after a bounded number of tries.
    func place(radius: Int, among placed: [SceneObject], using rng: inout SyntheticRandom) -> (x: Int, y: Int)? {
        let margin = Int(Self.reach(radius).rounded(.up)) + 1
        let size = configuration.imageSize
        guard size - 1 - margin >= margin else { return nil }
        for _ in 0..<200 {
            let x = rng.int(in: margin...(size - 1 - margin))
            let y = rng.int(in: margin...(size - 1 - margin))
            let free = placed.allSatisfy { other in
                let dx = Double(x - other.x), dy = Double(y - other.y)
                let gap = Self.reach(radius) + Self.reach(other.radius) + 2
                return dx * dx + dy * dy >= gap * gap
            }
            if free { return (x, y) }
        }
        return nil
    }

    /// The number of objects for a scene: uniform in `minimum...maxObjects`.
    func objectCount(minimum: Int, using rng: inout SyntheticRandom) -> Int {
        rng.int(in: min(minimum, configuration.maxObjects)...configuration.maxObjects)
    }
}
