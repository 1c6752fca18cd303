/// The shapes the synthetic suite draws, with the facts its knowledge probe asks about.
public enum ShapeKind: String, Sendable, CaseIterable, Codable {
    case circle
    case square
    case triangle
    case diamond
    case cross

    /// Number of corners of the outline (a cross has twelve, a circle none).
    public var corners: Int {
        switch self {
        case .circle: 0
        case .triangle: 3
        case .square, .diamond: 4
        case .cross: 12
        }
    }

    /// Whether the outline has no straight sides.
    public var isRound: Bool { self == .circle }

    /// Whether the shape looks the same after a quarter turn.
    public var hasQuarterTurnSymmetry: Bool { self != .triangle }

    /// The word in answers, plural form included.
    public var plural: String { self == .cross ? "crosses" : rawValue + "s" }
}

/// The colours the synthetic suite paints with; names are the answers.
public enum ShapeColor: String, Sendable, CaseIterable, Codable {
    case red
    case green
    case blue
    case yellow
    case purple
    case orange
    case white

    /// sRGB components, far enough apart to be told apart after JPEG-free 48-pixel rendering.
    public var rgb: (red: UInt8, green: UInt8, blue: UInt8) {
        switch self {
        case .red: (220, 40, 40)
        case .green: (40, 180, 60)
        case .blue: (50, 90, 230)
        case .yellow: (240, 220, 40)
        case .purple: (150, 60, 200)
        case .orange: (245, 140, 20)
        case .white: (245, 245, 245)
        }
    }
}

/// One shape placed in a scene.
public struct SceneObject: Sendable, Hashable, Codable {
    public var shape: ShapeKind
    public var color: ShapeColor
    /// Centre, in pixels from the top-left corner.
    public var x: Int
    public var y: Int
    /// Half the shape's extent in pixels.
    public var radius: Int

    public init(shape: ShapeKind, color: ShapeColor, x: Int, y: Int, radius: Int) {
        self.shape = shape
        self.color = color
        self.x = x
        self.y = y
        self.radius = radius
    }

    /// "red circle": how questions and captions name the object.
    public var name: String { "\(color.rawValue) \(shape.rawValue)" }

    /// "a red circle", "an orange square".
    public var nameWithArticle: String { Self.withArticle(name) }

    /// `phrase` after "a" or, before a vowel, "an".
    public static func withArticle(_ phrase: String) -> String {
        let vowels: Set<Character> = ["a", "e", "i", "o", "u"]
        return (phrase.first.map { vowels.contains($0) } ?? false ? "an " : "a ") + phrase
    }

    /// Whether the point (`px`, `py`) in continuous pixel coordinates lies inside the shape.
    ///
    /// Only arithmetic and square roots, which IEEE 754 rounds exactly, so every platform
    /// renders the same bytes (no sin/cos, whose last bit varies between libms).
    func contains(_ px: Double, _ py: Double) -> Bool {
        let dx = px - Double(x), dy = py - Double(y)
        let r = Double(radius)
        switch shape {
        case .circle:
            return dx * dx + dy * dy <= r * r
        case .square:
            let half = r * 0.85
            return abs(dx) <= half && abs(dy) <= half
        case .diamond:
            return abs(dx) + abs(dy) <= r * 1.15
        case .cross:
            let arm = r / 3
            return (abs(dx) <= r && abs(dy) <= arm) || (abs(dy) <= r && abs(dx) <= arm)
        case .triangle:
            // Equilateral, pointing up, circumradius 1.1 r, centred on (x, y).
            let radius = r * 1.1
            let halfBase = radius * 3.0.squareRoot() / 2
            let bottom = radius / 2
            guard dy <= bottom, dy >= -radius else { return false }
            // Width at height dy shrinks linearly from the base to the apex.
            let halfWidth = halfBase * (dy + radius) / (bottom + radius)
            return abs(dx) <= halfWidth
        }
    }
}

/// A square image of shapes on a plain background.
public struct Scene: Sendable, Hashable, Codable {
    /// Width and height in pixels.
    public var size: Int
    public var objects: [SceneObject]

    public init(size: Int, objects: [SceneObject]) {
        self.size = size
        self.objects = objects
    }

    /// The background colour (dark grey, so that every palette colour including white shows).
    public static let background: (red: UInt8, green: UInt8, blue: UInt8) = (40, 40, 40)

    /// The objects from left to right (ties: top to bottom), the order captions list them in.
    public var objectsLeftToRight: [SceneObject] {
        objects.sorted { ($0.x, $0.y) < ($1.x, $1.y) }
    }

    /// The object called `name`, when exactly one has it.
    public func unique(_ predicate: (SceneObject) -> Bool) -> SceneObject? {
        let matches = objects.filter(predicate)
        return matches.count == 1 ? matches[0] : nil
    }
}

/// How two objects sit relative to each other, decided only where a person would agree.
public enum SpatialRelation: String, Sendable, CaseIterable, Codable {
    case left
    case right
    case above
    case below

    /// The clear relation of `a` to `b` along the axis where they are further apart, or nil
    /// when the separation is too small or too diagonal to call.
    public static func between(_ a: SceneObject, _ b: SceneObject, margin: Int) -> SpatialRelation? {
        let dx = a.x - b.x, dy = a.y - b.y
        if abs(dx) >= margin && abs(dx) >= 2 * abs(dy) { return dx < 0 ? .left : .right }
        if abs(dy) >= margin && abs(dy) >= 2 * abs(dx) { return dy < 0 ? .above : .below }
        return nil
    }

    /// The phrase used in questions: "to the left of", "above".
    public var phrase: String {
        switch self {
        case .left: "to the left of"
        case .right: "to the right of"
        case .above: "above"
        case .below: "below"
        }
    }
}
