import Planning
import SpecLanguage
import Testing

/// The graph the runner walks: every job's inputs are the jobs that produce what it reads.
@Suite struct JobGraphTests {
    static let rtn = WeightQuantization(method: .rtn(scope: .perGroup, groupSize: 128), bits: 4, targets: [.lm, .projector])
    let plan: Plan

    init() throws {
        plan = try planner().plan(cells(weights: [nil, JobGraphTests.rtn],
                                        kv: [nil] + kvSweep(.store) + kvSweep(.prefix) + kvSweep(.attention)))
    }

    func sample(_ reference: SampleReference) -> SampleDescriptor {
        plan.datasets[reference.dataset].samples.samples[reference.index]
    }

    @Test func decodeReadsThePrefillOfItsOwnSample() throws {
        for (cellIndex, cell) in plan.cells.enumerated() {
            let samples = plan.datasets[cell.dataset].samples.samples
            for (index, decodeIndex) in cell.decodeJobs.enumerated() {
                let decode = plan.jobs[decodeIndex]
                #expect(decode.kind == .decode)
                let prefill = plan.jobs[decode.dependencies[0]]
                #expect(prefill.kind == (cell.cell.regime == .prefix ? .prefixPrefill : .prefill))
                let reference: SampleReference
                switch prefill.work {
                case let .prefill(_, _, sampleReference, kv):
                    reference = sampleReference
                    #expect(kv == (cell.cell.regime == .attention ? cell.cell.kv : nil))
                case let .prefillPrefix(_, _, sampleReference):
                    reference = sampleReference
                default:
                    Issue.record("decode \(decodeIndex) reads \(prefill.work)")
                    continue
                }
                #expect(sample(reference).image == samples[index].image)
                if cell.cell.regime != .prefix { #expect(sample(reference).question == samples[index].question) }
                // The job's own work names the first cell that asked for it, with the same content.
                if case let .decode(owner, ownerSample) = decode.work {
                    let ownerCell = plan.cells[owner]
                    #expect(plan.datasets[ownerCell.dataset].samples.samples[ownerSample].image == samples[index].image)
                    #expect(ownerCell.cell.kv == cell.cell.kv && ownerCell.cell.weights == cell.cell.weights)
                    #expect(owner <= cellIndex)
                } else {
                    Issue.record("decode job \(decodeIndex) has work \(decode.work)")
                }
                let scoring = plan.jobs[cell.scoringJobs[index]]
                #expect(scoring.dependencies == [decodeIndex])
            }
        }
    }

    @Test func quantizedWeightsComeFirst() throws {
        let quantize = try #require(plan.jobs.firstIndex { $0.kind == .weightQuantization })
        #expect(plan.count(.weightQuantization) == 1)
        for cell in plan.cells where cell.cell.weights != nil {
            for decode in cell.decodeJobs {
                #expect(plan.jobs[decode].dependencies.contains(quantize))
                let prefill = plan.jobs[plan.jobs[decode].dependencies[0]]
                #expect(prefill.dependencies.contains(quantize))
                // The projector is quantized too, so the features come from a job that waits for it.
                let vision = plan.jobs[prefill.dependencies[0]]
                #expect(vision.kind == .visionEncoding)
                #expect(vision.dependencies == [quantize])
            }
        }
    }

    @Test func everyJobIsNeededAndKeysAreUnique() throws {
        #expect(Set(plan.jobs.map(\.key)).count == plan.jobs.count)
        var used = Set(plan.cells.flatMap { $0.scoringJobs })
        for index in plan.jobs.indices.reversed() where used.contains(index) {
            used.formUnion(plan.jobs[index].dependencies)
        }
        #expect(used.count == plan.jobs.count)
    }
}
