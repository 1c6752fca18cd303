import Foundation

/// The `model` stage for byte-pair encoding: vocabulary, ranked merges, byte fallback and unknowns.
///
/// A word starts as one symbol per Unicode scalar (or its `<0xXX>` byte tokens); the adjacent pair
/// with the lowest merge rank (leftmost on ties) is merged until no ranked pair remains. Symbols
/// sit in a linked list and candidate pairs in a min-heap, so a word of n scalars costs
/// O(n log n) — a 50 KB input without a pre-tokenizer is one word.
struct BPEModel: Sendable {
    /// Token bytes → id (byte-exact keys; see `UTF8Bytes`).
    let vocabulary: [TokenBytes: Int]
    /// id → token, for decoding.
    let tokens: [Int: String]
    /// (left id, right id) packed into 64 bits → (rank, merged id).
    let merges: [UInt64: Merge]
    /// Ids of vocabulary entries that are one scalar, the common case of the initial split.
    let scalarIDs: [UInt32: Int32]
    /// `<0xXX>` token ids when `byte_fallback` is on (nil where the vocabulary lacks one).
    let byteIDs: [Int32?]
    // Settings that `transformers`' tokenizer classes may override (see TokenizerCompatibility).
    var unknownID: Int?
    var fuseUnknown: Bool
    var byteFallback: Bool
    var ignoreMerges: Bool
    let continuingSubwordPrefix: [UInt8]?
    let endOfWordSuffix: [UInt8]?
    let cache = WordCache(capacity: 10_000)

    struct Merge: Sendable {
        let rank: Int32
        let newID: Int32
    }

    @inline(__always)
    static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Reads `model` of type BPE from `tokenizer.json`.
    init(_ config: ConfigNode) throws {
        var vocabulary: [TokenBytes: Int] = [:]
        var tokens: [Int: String] = [:]
        let vocabNode = try config.required("vocab")
        let members = try vocabNode.members()
        vocabulary.reserveCapacity(members.count)
        tokens.reserveCapacity(members.count)
        for (key, value) in members {
            // The node (and its path string) is only built for an error: vocabularies are large.
            guard case .number(let number) = value, number.rounded() == number, number >= 0, number < Double(Int32.max)
            else {
                let entry = ConfigNode(value: value, file: config.file, location: "\(vocabNode.location)[\(key.debugDescription)]")
                if case .number(let found) = value {
                    throw entry.unusable("a non-negative integer token id below 2^31, found \(found)")
                }
                throw entry.invalid("an integer token id")
            }
            let id = Int(number)
            vocabulary[TokenBytes(key)] = id
            tokens[id] = key
        }
        self.vocabulary = vocabulary
        self.tokens = tokens

        let prefix = try config.optionalString("continuing_subword_prefix").map(UTF8Bytes.of)
        let suffix = try config.optionalString("end_of_word_suffix").map(UTF8Bytes.of)
        continuingSubwordPrefix = prefix
        endOfWordSuffix = suffix

        var merges: [UInt64: Merge] = [:]
        let mergesNode = config.optional("merges")
        let mergeValues = try mergesNode?.elements() ?? []
        merges.reserveCapacity(mergeValues.count)
        let prefixLength = prefix?.count ?? 0
        for (rank, value) in mergeValues.enumerated() {
            func node() -> ConfigNode { mergesNode?.element(rank) ?? config }
            guard let (left, right) = Self.mergePair(value) else {
                throw node().invalid("a merge \"left right\" or [\"left\", \"right\"]")
            }
            let leftBytes = UTF8Bytes.of(left)
            var rightBytes = UTF8Bytes.of(right)
            guard let leftID = vocabulary[TokenBytes(leftBytes)], let rightID = vocabulary[TokenBytes(rightBytes)] else {
                throw node().unusable("a merge of two vocabulary tokens ('\(left)' + '\(right)' is not in the vocabulary)")
            }
            // With a continuing-subword prefix the right part loses its prefix in the merged token.
            if prefixLength > 0, rightBytes.starts(with: prefix ?? []) { rightBytes.removeFirst(prefixLength) }
            guard let newID = vocabulary[TokenBytes(leftBytes + rightBytes)] else {
                throw node().unusable("a merge whose result '\(left + UTF8Bytes.string(rightBytes))' is in the vocabulary")
            }
            merges[Self.pairKey(Int32(leftID), Int32(rightID))] = Merge(rank: Int32(rank), newID: Int32(newID))
        }
        self.merges = merges

        var scalarIDs: [UInt32: Int32] = [:]
        for (key, id) in vocabulary {
            let bytes = key.bytes
            guard !bytes.isEmpty, UTF8Bytes.scalarLength(lead: bytes[0]) == bytes.count else { continue }
            scalarIDs[UTF8Bytes.scalar(in: bytes, at: 0).0.value] = Int32(id)
        }
        self.scalarIDs = scalarIDs

        byteFallback = try config.bool("byte_fallback", default: false)
        byteIDs = (0..<256).map { byte in
            vocabulary[TokenBytes(String(format: "<0x%02X>", byte))].map { Int32($0) }
        }
        fuseUnknown = try config.bool("fuse_unk", default: false)
        ignoreMerges = try config.bool("ignore_merges", default: false)
        if let unknown = try config.optionalString("unk_token") {
            guard let id = vocabulary[TokenBytes(unknown)] else {
                throw TokenizerError.invalidValue(
                    path: config.file, where: "\(config.location).unk_token",
                    expected: "a token of the vocabulary ('\(unknown)' is not in model.vocab)")
            }
            unknownID = id
        } else {
            unknownID = nil
        }
        if let dropout = try config.optional("dropout")?.double(), dropout > 0 {
            throw TokenizerError.invalidValue(
                path: config.file, where: "\(config.location).dropout",
                expected: "null or 0 (BPE dropout is random and only used in training)")
        }
    }

    /// A merge in either encoding: `"a b"` (split at the first space; tokens in this encoding
    /// contain none) or `["a", "b"]`; nil for anything else.
    static func mergePair(_ value: JSONValue) -> (String, String)? {
        switch value {
        case .string(let text):
            let bytes = UTF8Bytes.of(text)
            guard let space = bytes.firstIndex(of: 0x20) else { return nil }
            return (UTF8Bytes.string(bytes[..<space]), UTF8Bytes.string(bytes[(space + 1)...]))
        case .array(let parts):
            guard parts.count == 2, case .string(let left) = parts[0], case .string(let right) = parts[1] else {
                return nil
            }
            return (left, right)
        default:
            return nil
        }
    }

    /// The id of a token, or nil.
    func id(of token: [UInt8]) -> Int? { vocabulary[TokenBytes(token)] }

    /// The ids of one pre-tokenized word.
    func tokenize(_ word: [UInt8]) -> [Int] {
        if word.isEmpty { return [] }
        if ignoreMerges, let id = vocabulary[TokenBytes(word)] { return [id] }
        if let cached = cache.lookup(word) { return cached }
        let ids = merge(initialSymbols(word))
        if word.count < 256 { cache.store(word, ids) }
        return ids
    }

    /// One symbol per scalar, byte tokens for scalars outside the vocabulary, unknowns fused.
    private func initialSymbols(_ word: [UInt8]) -> [Symbol] {
        var symbols: [Symbol] = []
        symbols.reserveCapacity(word.count)
        var pendingUnknown: (id: Int32, length: Int32)?
        let plain = continuingSubwordPrefix == nil && endOfWordSuffix == nil
        var index = 0
        while index < word.count {
            let (scalar, length) = UTF8Bytes.scalar(in: word, at: index)
            let isFirst = index == 0
            let isLast = index + length == word.count
            var id: Int32?
            var piece = word[index..<index + length]
            if plain {
                id = scalarIDs[scalar.value]
            } else {
                var decorated = Array(piece)
                if !isFirst, let prefix = continuingSubwordPrefix { decorated = prefix + decorated }
                if isLast, let suffix = endOfWordSuffix { decorated += suffix }
                id = vocabulary[TokenBytes(decorated)].map { Int32($0) }
                piece = decorated[...]
            }
            defer { index += length }
            if let id {
                if let unknown = pendingUnknown {
                    symbols.append(Symbol(id: unknown.id, length: unknown.length))
                    pendingUnknown = nil
                }
                symbols.append(Symbol(id: id, length: Int32(length)))
                continue
            }
            if byteFallback {
                // As in `tokenizers`, the bytes are those of the decorated piece.
                var fallback: [Int32] = []
                for byte in piece {
                    guard let byteID = byteIDs[Int(byte)] else { break }
                    fallback.append(byteID)
                }
                if fallback.count == piece.count {
                    if let unknown = pendingUnknown {
                        symbols.append(Symbol(id: unknown.id, length: unknown.length))
                        pendingUnknown = nil
                    }
                    for byteID in fallback { symbols.append(Symbol(id: byteID, length: 1)) }
                    continue
                }
            }
            if let unknownID {
                if let unknown = pendingUnknown {
                    if fuseUnknown {
                        pendingUnknown = (unknown.id, unknown.length + Int32(length))
                        continue
                    }
                    symbols.append(Symbol(id: unknown.id, length: unknown.length))
                }
                pendingUnknown = (Int32(unknownID), Int32(length))
            }
        }
        if let unknown = pendingUnknown { symbols.append(Symbol(id: unknown.id, length: unknown.length)) }
        return symbols
    }

    struct Symbol {
        var id: Int32
        var length: Int32
        var previous: Int32 = -1
        var next: Int32 = -1

        init(id: Int32, length: Int32) {
            self.id = id
            self.length = length
        }
    }

    /// Applies ranked merges lowest rank first, leftmost first among equal ranks.
    private func merge(_ initial: [Symbol]) -> [Int] {
        var symbols = initial
        let count = symbols.count
        if count == 0 { return [] }
        for i in 0..<count {
            symbols[i].previous = Int32(i) - 1
            symbols[i].next = i + 1 < count ? Int32(i + 1) : -1
        }
        if count > 1, !merges.isEmpty {
            var queue = MergeQueue()
            queue.reserve(count)
            for i in 0..<(count - 1) {
                if let merge = merges[Self.pairKey(symbols[i].id, symbols[i + 1].id)] {
                    queue.push(MergeQueue.Entry(rank: merge.rank, position: Int32(i), newID: merge.newID))
                }
            }
            while let top = queue.pop() {
                let position = Int(top.position)
                let left = symbols[position]
                // Stale entries: the symbol was merged away, is now last, or its pair changed.
                if left.length == 0 || left.next < 0 { continue }
                let rightIndex = Int(left.next)
                let right = symbols[rightIndex]
                guard let current = merges[Self.pairKey(left.id, right.id)], current.newID == top.newID else {
                    continue
                }
                symbols[position].id = top.newID
                symbols[position].length = left.length + right.length
                symbols[position].next = right.next
                symbols[rightIndex].length = 0
                if right.next >= 0 { symbols[Int(right.next)].previous = Int32(position) }
                let merged = symbols[position]
                if merged.previous >= 0, let merge = merges[Self.pairKey(symbols[Int(merged.previous)].id, merged.id)] {
                    queue.push(MergeQueue.Entry(rank: merge.rank, position: merged.previous, newID: merge.newID))
                }
                if merged.next >= 0, let merge = merges[Self.pairKey(merged.id, symbols[Int(merged.next)].id)] {
                    queue.push(MergeQueue.Entry(rank: merge.rank, position: Int32(position), newID: merge.newID))
                }
            }
        }
        var ids: [Int] = []
        ids.reserveCapacity(count)
        for symbol in symbols where symbol.length != 0 { ids.append(Int(symbol.id)) }
        return ids
    }
}

/// A binary min-heap of candidate merges ordered by (rank, position).
struct MergeQueue {
    struct Entry {
        let rank: Int32
        let position: Int32
        let newID: Int32

        @inline(__always)
        func precedes(_ other: Entry) -> Bool {
            rank != other.rank ? rank < other.rank : position < other.position
        }
    }

    private var heap: [Entry] = []

    mutating func reserve(_ capacity: Int) { heap.reserveCapacity(capacity) }

    mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if heap.isEmpty { return first }
        heap[0] = last
        var parent = 0
        let count = heap.count
        while true {
            let left = 2 * parent + 1
            if left >= count { break }
            var best = left
            if left + 1 < count, heap[left + 1].precedes(heap[left]) { best = left + 1 }
            guard heap[best].precedes(heap[parent]) else { break }
            heap.swapAt(best, parent)
            parent = best
        }
        return first
    }
}

/// Ids of words already encoded, shared by all copies of a tokenizer (like `tokenizers`' BPE cache,
/// it stops growing at its capacity).
final class WordCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [TokenBytes: [Int]] = [:]
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func lookup(_ word: [UInt8]) -> [Int]? {
        lock.lock()
        defer { lock.unlock() }
        return entries[TokenBytes(word)]
    }

    func store(_ word: [UInt8], _ ids: [Int]) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count < capacity { entries[TokenBytes(word)] = ids }
    }
}
