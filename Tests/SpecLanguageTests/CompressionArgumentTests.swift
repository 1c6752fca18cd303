import Testing
@testable import SpecLanguage

/// The `--kv`/`--weights` form is read by the spec's own decoder: the same names, defaults and errors.
@Suite struct CompressionArgumentTests {
    /// The configuration a one-entry spec gives for `entry` (a YAML flow mapping such as `{kv: {...}}`).
    func fromSpec(_ entry: String) throws -> CompressionConfiguration {
        let text = """
            models: {m: {path: /nowhere, template: gemma}}
            datasets:
              d: {suite: shapes, size: 4}
              cal: {suite: shapes, seed: 9, size: 4}
            compression:
              c: \(entry)
            experiments:
              e: {models: m, datasets: d, compression: [c]}
            """
        let result = loadInMemory(["root.yaml": text])
        let spec = try #require(result.spec, "\(result.diagnostics)")
        return try #require(spec.configurations["c"])
    }

    @Test(arguments: [
        ("group:2", "{kv: {method: group, bits: 2}}"),
        ("kivi:2", "{kv: {method: kivi, bits: 2}}"),
        ("kivi:4,residual=32,regime=prefix", "{kv: {method: kivi, bits: 4, residual: 32, regime: prefix}}"),
        ("group:2,variant=flexgen", "{kv: {method: group, bits: 2, variant: flexgen}}"),
        ("gear:4", "{kv: {method: gear, bits: 4}}"),
        ("gear-l:2,rank=3,seed=7", "{kv: {method: gear-l, bits: 2, rank: 3, seed: 7}}"),
        ("outlier:2,outlier_fraction=0.05,regime=attention", "{kv: {method: outlier, bits: 2, outlier_fraction: 0.05, regime: attention}}"),
        ("uniform:8,scope=per_token", "{kv: {method: uniform, bits: 8, scope: per_token}}"),
        ("group", "{kv: {method: group}}"),
    ])
    func aKVFlagIsTheSpecEntry(flag: String, entry: String) throws {
        let spec = try #require(try fromSpec(entry).kv)
        #expect(try CompressionArgument.kv(flag) == spec)
    }

    @Test(arguments: [
        ("rtn:4", "{weights: {method: rtn, bits: 4}}"),
        ("rtn:2,scope=per_channel", "{weights: {method: rtn, bits: 2, scope: per_channel}}"),
        ("rtn:4,group_size=64,targets=lm+lm_head+projector+vision_tower",
         "{weights: {method: rtn, bits: 4, group_size: 64, targets: [lm, lm_head, projector, vision_tower]}}"),
        ("outlier:4,outlier_fraction=0.005", "{weights: {method: outlier, bits: 4, outlier_fraction: 0.005}}"),
    ])
    func aWeightFlagIsTheSpecEntry(flag: String, entry: String) throws {
        let spec = try #require(try fromSpec(entry).weights)
        #expect(try CompressionArgument.weights(flag) == spec)
    }

    /// CLI-only rule: AWQ/GPTQ calibrate on the command's prompt; everything else is the spec's.
    @Test func calibratedMethodsTakeThePromptInsteadOfADataset() throws {
        let cli = try #require(try CompressionArgument.weights("gptq:3,group_size=32,damp=0.05,block=16"))
        let spec = try #require(try fromSpec("{weights: {method: gptq, bits: 3, group_size: 32, damp: 0.05, block: 16, calibration: cal}}").weights)
        guard case .gptq(let c) = cli.method, case .gptq(let s) = spec.method else {
            Issue.record("expected gptq, got \(cli.method) and \(spec.method)")
            return
        }
        #expect(c.calibration == CompressionArgument.promptCalibration)
        #expect(c.groupSize == s.groupSize && c.damp == s.damp && c.block == s.block && c.calibrationSamples == s.calibrationSamples)
        #expect(cli.bits == spec.bits && cli.targets == spec.targets)
        let awq = try #require(try CompressionArgument.weights("awq:4"))
        #expect(awq.method == .awq(AWQParameters(calibration: CompressionArgument.promptCalibration)))
    }

    @Test func theDefaultsAreTheSpecs() throws {
        #expect(try CompressionArgument.kv("group:2")?.method == .group(.groupDefaults))
        #expect(try CompressionArgument.kv("kivi:2")?.method == .kivi(.kiviDefaults))
        #expect(try CompressionArgument.kv("gear:2")?.method == .gear(GEARParameters()))
        #expect(try CompressionArgument.kv("gear-l:2")?.method == .gearL(GEARParameters(outlierFraction: 0)))
        #expect(try CompressionArgument.kv("outlier:2")?.method == .outlier(outlierFraction: 0.02))
        #expect(try CompressionArgument.kv("uniform:2")?.regime == .store)
        #expect(try CompressionArgument.weights("outlier:4")?.method == .outlier(outlierFraction: 0.01))
        #expect(try CompressionArgument.weights("rtn:4")?.method == .rtn(scope: .perGroup, groupSize: 128))
        #expect(try CompressionArgument.weights("rtn:4")?.targets == [.lm])
        #expect(try CompressionArgument.kv("fp16") == nil)
        #expect(try CompressionArgument.weights("fp16") == nil)
    }

    /// (flag text, a piece of the message, the caret line under `--kv TEXT`).
    @Test(arguments: [
        ("group:2,group_sise=32", "unknown key 'group_sise' in kv method 'group'; did you mean 'group_size'?",
         "               ^~~~~~~~~~"),
        ("outlier:2,fraction=0.1", "unknown key 'fraction' in kv method 'outlier'",
         "                 ^~~~~~~~"),
        ("grop:2", "unknown kv method 'grop'; did you mean 'group'?",
         "       ^~~~"),
        ("group:5", "'bits' must be 2, 3, 4 or 8; found 5",
         "             ^"),
        ("group:2,residual=48,group_size=32", "residual 48 is not a multiple of group_size 32",
         "                        ^~"),
        ("group:2,variant=flexgen,residual=0", "'residual' does not apply to variant 'flexgen'",
         "                                        ^"),
        ("kivi:2,variant=flexgen", "parameter 'variant' does not belong to kv method 'kivi'",
         "              ^~~~~~~"),
        ("gear:2,residual=64", "parameter 'residual' does not belong to kv method 'gear'; it is a parameter of 'group' or 'kivi'",
         "              ^~~~~~~~"),
        ("group:2,regime=store,regime=prefix", "parameter 'regime' is given twice",
         "                            ^~~~~~"),
        ("group:2,residual", "expected name=value after 'group:2', found 'residual'",
         "               ^~~~~~~~"),
        ("group:2,group_size=16+32", "expected an integer for 'group_size', found the text '16+32'",
         "                          ^~~~~"),
        ("group:2,bits=4", "write the method and bits first, as METHOD:BITS",
         "               ^~~~"),
        ("fp16,regime=store", "'fp16' (no compression) takes no parameters",
         "            ^~~~~~~~~~~~"),
        ("gear:2,group_size=128", "group_size 128 does not divide gear's full-precision window of 64 tokens",
         "                         ^~~"),
        (":2", "expected METHOD[:BITS] before the first ','",
         "       ^~"),
    ])
    func kvErrorsNameTheFlagAndTheParameter(text: String, message: String, caret: String) {
        do {
            let config = try CompressionArgument.kv(text)
            Issue.record("'\(text)' should be rejected, got \(String(describing: config))")
        } catch {
            #expect(error.flag == "--kv" && error.argument == text)
            let lines = error.description.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines.first?.hasPrefix("--kv \(text): ") == true, "\(error.description)")
            #expect(lines.first?.contains(message) == true, "\(error.description)")
            #expect(lines.count >= 3 && lines[1] == "  --kv \(text)" && lines[2] == caret, "\(error.description)")
        }
    }

    @Test(arguments: [
        ("rtn:4,targets=lm+vision", "unknown weight target 'vision'"),
        ("rtn:4,targets=lm+embeddings", "weight target 'embeddings' cannot be quantized"),
        ("rtn:4,scope=per_channel,group_size=64", "'group_size' applies only to scope 'per_group'"),
        ("awq:4,calibration=shapes", "'calibration' names a spec dataset; on the command line awq calibrates on the command's own prompt"),
        ("gptq:4,calibration_samples=8", "'calibration_samples' names a spec dataset"),
        ("awq:4,clip=false", "unknown key 'clip' in weight method 'awq'"),
        ("gptq:4,scope=per_channel", "parameter 'scope' does not belong to weight method 'gptq'; it is a parameter of 'rtn'"),
        ("gtpq:4", "unknown weight method 'gtpq'; did you mean 'gptq'?"),
        ("rtn:4,regime=store", "unknown key 'regime' in weight method 'rtn'"),
    ])
    func weightErrorsNameTheFlagAndTheParameter(text: String, message: String) {
        do {
            let config = try CompressionArgument.weights(text, flag: "--weights")
            Issue.record("'\(text)' should be rejected, got \(String(describing: config))")
        } catch {
            #expect(error.description.hasPrefix("--weights \(text): "), "\(error.description)")
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    /// The spec itself still needs a calibration dataset for AWQ/GPTQ: the CLI rule does not leak.
    @Test func theSpecCheckerStillRequiresCalibration() {
        let text = """
            models: {m: {path: /nowhere, template: gemma}}
            datasets: {d: {suite: shapes, size: 4}}
            compression:
              c: {weights: {method: awq, bits: 4}}
            experiments:
              e: {models: m, datasets: d, compression: [c]}
            """
        let result = loadInMemory(["root.yaml": text])
        #expect(result.spec == nil)
        #expect(result.diagnostics.contains { $0.message.contains("needs 'calibration:'") })
    }
}
