import Foundation
import Quantization
import SpecLanguage
import TestSupport
import Testing
@testable import Execution

/// One converter from the spec language to the library, shared by the runner and the CLI.
@Suite struct CompressionConversionTests {
    @Test func kvSettingsBecomeTheLibrarysConfigurations() throws {
        let group = try #require(try CompressionConversion.kvConfig(argument: "group:2"))
        #expect(group.method == .group && group.variant == .kivi && group.groupSize == 128 && group.residual == 0)
        #expect(group.regime == .store && group.bits == .two)
        let kivi = try #require(try CompressionConversion.kvConfig(argument: "kivi:4,residual=32,regime=prefix"))
        #expect(kivi.method == .group && kivi.groupSize == 32 && kivi.residual == 32 && kivi.regime == .prefix)
        let flexgen = try #require(try CompressionConversion.kvConfig(argument: "group:3,variant=flexgen"))
        #expect(flexgen.variant == .flexgen && flexgen.canonicalDescription == "group:3,variant=flexgen,regime=store")
        let gear = try #require(try CompressionConversion.kvConfig(argument: "gear:4,group_size=32,rank=3,seed=5"))
        #expect(gear.method == .gear && gear.groupSize == 32 && gear.rank == 3 && gear.prefillRank == 4 && gear.seed == 5)
        #expect(gear.fraction == 0.02 && gear.residual == 64)
        let gearL = try #require(try CompressionConversion.kvConfig(argument: "gear-l:2"))
        #expect(gearL.method == .gearL && gearL.fraction == 0 && gearL.groupSize == 64)
        let outlier = try #require(try CompressionConversion.kvConfig(argument: "outlier:2,outlier_fraction=0.1,regime=attention"))
        #expect(outlier.method == .outlier && outlier.fraction == 0.1 && outlier.regime == .attention)
        #expect(try CompressionConversion.kvConfig(argument: "uniform:8,scope=per_token")?.scope == .perToken)
        #expect(try CompressionConversion.kvConfig(argument: "fp16") == nil)
    }

    @Test func weightSettingsBecomeTheLibrarysConfigurations() throws {
        let rtn = try #require(try CompressionConversion.weightConfig(argument: "rtn:4,group_size=64,targets=lm+lm_head+vision_tower"))
        #expect(rtn.method == .rtn && rtn.scope == .perGroup && rtn.groupSize == 64 && rtn.targets == [.lm, .lmHead, .vision])
        #expect(rtn.canonicalDescription == "rtn:4,scope=per_group,group_size=64,targets=lm+vision_tower+lm_head")
        let channel = try #require(try CompressionConversion.weightConfig(argument: "rtn:2,scope=per_channel,targets=projector"))
        #expect(channel.scope == .perChannel && channel.targets == [.projector])
        let outlier = try #require(try CompressionConversion.weightConfig(argument: "outlier:4,outlier_fraction=0.005"))
        #expect(outlier.method == .outlier && outlier.scope == .perTensor && outlier.fraction == 0.005)
        let gptq = try #require(try CompressionConversion.weightConfig(argument: "gptq:3,group_size=32,damp=0.05,block=16"))
        #expect(gptq.method == .gptq && gptq.groupSize == 32 && gptq.damp == 0.05 && gptq.block == 16)
        let awq = try #require(try CompressionConversion.weightConfig(argument: "awq:4,grid=10"))
        #expect(awq.method == .awq && awq.grid == 10 && awq.groupSize == 128 && awq.clip)
    }

    /// The runner's session and the CLI read a setting through the same function.
    @Test func theRunnerUsesTheSameConversion() throws {
        let kv = KVCacheQuantization(method: .kivi(GroupKVParameters(groupSize: 16, residual: 32)), bits: 2, regime: .prefix)
        #expect(try EngineSession.kvConfig(kv) == CompressionConversion.kvConfig(kv))
        #expect(try CompressionConversion.kvConfig(kv) == CompressionConversion.kvConfig(argument: "kivi:2,group_size=16,residual=32,regime=prefix"))
    }

    @Test func embeddingsAreRefusedWithAReason() {
        let weights = WeightQuantization(method: .rtn(scope: .perGroup, groupSize: 64), bits: 4, targets: [.lm, .embeddings])
        #expect(throws: CompressionConversionError.self) { try CompressionConversion.weightConfig(weights) }
        do {
            _ = try CompressionConversion.weightConfig(weights)
        } catch {
            #expect(error.description.contains("'embeddings' cannot be quantized"))
        }
    }

    @Test func usageErrorsComeFromTheSpecLanguage() {
        #expect(throws: CompressionArgumentError.self) { try CompressionConversion.kvConfig(argument: "group:2,fraction=0.1") }
        #expect(throws: CompressionArgumentError.self) { try CompressionConversion.weightConfig(argument: "rtn:4,targets=vision") }
    }
    /// `lcb generate` with the spec's names and defaults; a rejected flag is a usage error (exit 2).
    @Test func theCommandLineSpeaksTheSpecLanguage() throws {
        guard FileManager.default.isExecutableFile(atPath: lcbExecutable.path) else {
            Issue.record("\(lcbExecutable.path) is missing: run `swift build` before the tests")
            return
        }
        let folder = temporaryFolder()
        let model = Fixtures.url("models/llava-llama").path
        let ok = try runLCB(["generate", "--model", model, "--prompt", "hi", "--max-new-tokens", "2", "--json",
                             "--kv", "group:2", "--weights", "rtn:4,group_size=16,targets=lm+vision_tower"], in: folder)
        #expect(ok.status == 0, "\(ok.stderr)")
        // `group` without parameters is the spec's group (G=128, R=0), not KIVI's window.
        #expect(ok.stdout.contains(#""kv":"group:2,variant=kivi,group_size=128,residual=0,regime=store""#), "\(ok.stdout)")
        #expect(ok.stdout.contains(#""weights":"rtn:4,scope=per_group,group_size=16,targets=lm+vision_tower""#), "\(ok.stdout)")

        let bad = try runLCB(["generate", "--model", model, "--prompt", "hi", "--kv", "outlier:2,fraction=0.1"], in: folder)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--kv outlier:2,fraction=0.1: unknown key 'fraction' in kv method 'outlier'"), "\(bad.stderr)")
        #expect(bad.stderr.contains("                 ^~~~~~~~"), "\(bad.stderr)")
        let calibration = try runLCB(["generate", "--model", model, "--prompt", "hi", "--weights", "gptq:4,calibration=d"], in: folder)
        #expect(calibration.status == 2)
        #expect(calibration.stderr.contains("'calibration' names a spec dataset"), "\(calibration.stderr)")
    }
}
