// Reading PyTorch-named layers from a WeightFile into packed kernel weights, with every
// tensor's shape checked: `conv.weight` [out, in / groups, kh, kw], `bn.running_mean`, ...

extension WeightFile {
    /// Marks a tensor as deliberately unused, so `requireAllRead()` accepts it.
    public func ignore(_ name: String) throws {
        guard entries[name] != nil else { throw WeightError.missingTensor(path: path, tensor: name) }
        markRead(name)
    }

    /// A BatchNorm2d/BatchNorm1d under `prefix`: weight, bias, running_mean, running_var
    /// (and num_batches_tracked, which inference ignores, when present).
    public func batchNorm(_ prefix: String, channels: Int, epsilon: Float = 1e-5) throws -> BatchNorm {
        let bn = BatchNorm(gamma: try floats("\(prefix).weight", shape: [channels]),
                           beta: try floats("\(prefix).bias", shape: [channels]),
                           mean: try floats("\(prefix).running_mean", shape: [channels]),
                           variance: try floats("\(prefix).running_var", shape: [channels]),
                           epsilon: epsilon)
        if entries["\(prefix).num_batches_tracked"] != nil { markRead("\(prefix).num_batches_tracked") }
        return bn
    }

    /// A Conv2d under `prefix` (weight [out, in / groups, kh, kw], bias [out] when `bias`),
    /// with an optional batch norm folded in.
    public func conv2d(_ prefix: String, outChannels: Int, inChannels: Int, kernel: Size2,
                       groups: Int = 1, bias: Bool, batchNorm: BatchNorm? = nil) throws -> Conv2DWeights {
        precondition(groups >= 1 && inChannels % groups == 0 && outChannels % groups == 0,
                     "conv '\(prefix)': \(inChannels) -> \(outChannels) channels in \(groups) groups")
        let w = try floats("\(prefix).weight", shape: [outChannels, inChannels / groups, kernel.h, kernel.w])
        let b = bias ? try floats("\(prefix).bias", shape: [outChannels]) : nil
        return Conv2DWeights(oihw: w, bias: b, outChannels: outChannels, inChannels: inChannels,
                             kernel: kernel, groups: groups, batchNorm: batchNorm)
    }

    /// A Linear under `prefix`: weight [out, in], bias [out] when `bias`.
    public func linear(_ prefix: String, inFeatures: Int, outFeatures: Int, bias: Bool = true) throws -> DenseWeights {
        let w = try floats("\(prefix).weight", shape: [outFeatures, inFeatures])
        let b = bias ? try floats("\(prefix).bias", shape: [outFeatures]) : nil
        return DenseWeights(pytorch: w, bias: b, inFeatures: inFeatures, outFeatures: outFeatures)
    }
}
