import Testing
@testable import Quantization

/// The library's canonical descriptions read back (`QuantizationSpecParser`, internal: users name
/// settings in the spec language, tested in SpecLanguageTests and ExecutionTests).
@Suite struct SpecParserTests {
    @Test func parsesKIVIExample() throws {
        let config = try #require(try QuantizationSpecParser.parseKV("group:2,group_size=32,residual=32,regime=prefix"))
        #expect(config.method == .group)
        #expect(config.bits == .two)
        #expect(config.groupSize == 32)
        #expect(config.residual == 32)
        #expect(config.regime == .prefix)
        #expect(config.canonicalDescription == "group:2,variant=kivi,group_size=32,residual=32,regime=prefix")
    }

    @Test func groupTakesAZeroWindow() throws {
        let config = try #require(try QuantizationSpecParser.parseKV("group:2,group_size=32,residual=0"))
        #expect(config.residual == 0)
        #expect(try QuantizedKVCache(config: config, layerCount: 1, kvHeads: 1, headDim: 32).count(layer: 0) == 0)
    }

    @Test func parsesGEARWithDefaults() throws {
        let gear = try #require(try QuantizationSpecParser.parseKV("gear:4,rank=3,seed=9"))
        #expect(gear.rank == 3 && gear.prefillRank == 4 && gear.seed == 9 && gear.groupSize == 64 && gear.fraction == 0.02)
        #expect(gear.canonicalDescription
                == "gear:4,group_size=64,residual=64,outlier_fraction=0.02,rank=3,prefill_rank=4,iterations=3,seed=9,regime=store")
        // One vocabulary: no aliases (the spec's `kivi` is a spec method, not a library one).
        #expect(throws: QuantizationSpecError.self) { try QuantizationSpecParser.parseKV("kivi:2") }
        #expect(throws: QuantizationSpecError.self) { try QuantizationSpecParser.parseKV("gear_l:2") }
        #expect(try QuantizationSpecParser.parseKV("gear-l:2")?.method == .gearL)
        #expect(try QuantizationSpecParser.parseKV("uniform:8,scope=per_token")?.scope == .perToken)
        #expect(try QuantizationSpecParser.parseKV("fp16") == nil)
        let flexgen = try #require(try QuantizationSpecParser.parseKV("group:4,variant=flexgen"))
        #expect(flexgen.variant == .flexgen && flexgen.canonicalDescription == "group:4,variant=flexgen,regime=store")
    }

    @Test func canonicalDescriptionParsesBack() throws {
        for method in KVQuantizationMethod.allCases {
            let config = KVQuantizationConfig(method: method, bits: .three)
            #expect(try QuantizationSpecParser.parseKV(config.canonicalDescription) == config)
        }
        for method in WeightQuantizationMethod.allCases {
            var config = WeightQuantizationConfig(method: method, bits: .four)
            #expect(try QuantizationSpecParser.parseWeights(config.canonicalDescription) == config)
            config.targets = Set(WeightTarget.allCases)
            switch method {
            case .gptq: (config.damp, config.block) = (0.05, 32)
            case .outlier: config.fraction = 0.03
            case .awq: (config.grid, config.clip) = (7, false)
            case .rtn: config.groupSize = 64
            }
            #expect(try QuantizationSpecParser.parseWeights(config.canonicalDescription) == config, "\(config.canonicalDescription)")
        }
        var gear = KVQuantizationConfig(method: .gear, bits: .two)
        gear.fraction = 0.05
        #expect(gear.canonicalDescription.contains(",outlier_fraction=0.05,"))
        #expect(try QuantizationSpecParser.parseKV(gear.canonicalDescription) == gear)
    }

    @Test func parsesWeightExamples() throws {
        let rtn = try #require(try QuantizationSpecParser.parseWeights("rtn:4,group_size=128"))
        #expect(rtn.scope == .perGroup && rtn.groupSize == 128 && rtn.targets == [.lm])
        let channel = try #require(try QuantizationSpecParser.parseWeights("rtn:8,scope=per_channel,targets=lm+projector"))
        #expect(channel.scope == .perChannel && channel.targets == [.lm, .projector])
        let outlier = try #require(try QuantizationSpecParser.parseWeights("outlier:4,outlier_fraction=0.005"))
        #expect(outlier.fraction == 0.005 && outlier.scope == .perTensor)
        #expect(try QuantizationSpecParser.parseWeights("fp16") == nil)
        let gptq = try #require(try QuantizationSpecParser.parseWeights("gptq:3,damp=0.1,block=16,targets=lm+vision_tower"))
        #expect(gptq.damp == 0.1 && gptq.block == 16 && gptq.targets == [.lm, .vision])
        #expect(gptq.canonicalDescription == "gptq:3,scope=per_group,group_size=128,damp=0.1,block=16,targets=lm+vision_tower")
    }

    @Test(arguments: [
        ("grop:2", "unknown KV cache method 'grop' in 'grop:2'; did you mean 'group'?"),
        ("group", "missing bits in 'group'"),
        ("group:5", "bits must be one of 2, 3, 4, 8, got '5'"),
        ("group:2,group_sise=32", "unknown parameter 'group_sise' for KV cache method 'group' in 'group:2,group_sise=32'; did you mean 'group_size'?"),
        ("group:2,rank=2", "unknown parameter 'rank' for KV cache method 'group'"),
        ("group:2,group_size=32,residual=48", "residual (48) must be a multiple of group_size (32)"),
        ("outlier:4,outlier_fraction=1.5", "outlier_fraction must be a number in [0, 1], got '1.5'"),
        ("outlier:4,fraction=0.1", "unknown parameter 'fraction' for KV cache method 'outlier'"),
        ("uniform:4,scope=per_chanel", "scope must be one of per_tensor, per_token, got 'per_chanel'"),
        ("group:2,regime=attention,regime=store", "parameter 'regime' is given twice"),
        ("group:2,residual", "expected name=value after the bits, got 'residual'"),
        ("gear:2,iterations=0", "iterations must be an integer ≥ 1, got '0'"),
        ("gear:2,residual=0", "residual must be an integer ≥ 1, got '0'"),
        ("fp16:4", "'fp16' takes no bits or parameters"),
        ("group:4,variant=flexgen,group_size=32", "group_size does not apply to variant=flexgen"),
    ])
    func kvErrorsAreClear(text: String, message: String) {
        do {
            _ = try QuantizationSpecParser.parseKV(text)
            Issue.record("'\(text)' should not parse")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    @Test(arguments: [
        ("gtpq:4", "unknown weight method 'gtpq' in 'gtpq:4'; did you mean 'gptq'?"),
        ("gptq:4,scope=per_tensor", "GPTQ quantizes per channel or per group"),
        ("rtn:4,scope=per_channel,group_size=64", "group_size applies only to scope=per_group"),
        ("rtn:4,targets=lm+vison", "targets must be one of lm, projector, vision_tower, lm_head, got 'vison'"),
        ("rtn:4,targets=lm+vision", "got 'vision'"),
        ("outlier_reduced:4", "unknown weight method 'outlier_reduced'"),
        ("awq:4,clip=maybe", "clip must be true or false"),
        (":4", "expected weights as METHOD:BITS"),
    ])
    func weightErrorsAreClear(text: String, message: String) {
        do {
            _ = try QuantizationSpecParser.parseWeights(text)
            Issue.record("'\(text)' should not parse")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }
}
