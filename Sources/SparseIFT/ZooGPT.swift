/// GPT-3 decoder-only transformers (Brown et al. 2020): token and learned position
/// embeddings, pre-LayerNorm blocks (causal multi-head attention, GELU MLP with
/// `d_ff = 4·d_model`), a final LayerNorm and an LM head tied to the token embedding.
/// Q, K and V are separate linear layers (equivalent to the fused QKV projection, and each
/// is a sparse matrix of its own as the reference requires).
public enum GPT {
    public struct Config: Hashable, Sendable {
        public var dModel: Int
        public var dFF: Int
        public var layers: Int
        public var heads: Int
        public var vocabulary: Int
        public var sequenceLength: Int
        public var name: String

        public init(name: String, dModel: Int, dFF: Int, layers: Int, heads: Int, vocabulary: Int = 50257, sequenceLength: Int = 2048) {
            self.name = name
            self.dModel = dModel
            self.dFF = dFF
            self.layers = layers
            self.heads = heads
            self.vocabulary = vocabulary
            self.sequenceLength = sequenceLength
        }

        public static func small(sequenceLength: Int = 2048) -> Config {
            Config(name: "gpt3-small", dModel: 768, dFF: 3072, layers: 12, heads: 12, sequenceLength: sequenceLength)
        }

        public static func medium(sequenceLength: Int = 2048) -> Config {
            Config(name: "gpt3-medium", dModel: 1024, dFF: 4096, layers: 24, heads: 16, sequenceLength: sequenceLength)
        }
    }

    /// The longest sequence the zoo builds (64 Ki tokens): far beyond GPT-3's 2048, and
    /// small enough that the T²-sized attention products stay countable at every width.
    public static let maxSequenceLength = 65536

    public static func build(_ c: Config) throws -> Network {
        guard c.dModel > 0, c.dFF > 0, c.layers > 0, c.heads > 0, c.vocabulary > 0 else {
            throw SparseIFTError.invalidArgument("GPT needs positive widths, layers, heads and vocabulary")
        }
        guard c.sequenceLength > 0, c.sequenceLength <= maxSequenceLength else {
            throw SparseIFTError.invalidArgument("sequence length must be in 1...\(maxSequenceLength), got \(c.sequenceLength)")
        }
        guard c.dModel % c.heads == 0 else {
            throw SparseIFTError.invalidArgument("d_model \(c.dModel) is not divisible by \(c.heads) heads")
        }
        var b = NetworkBuilder()
        var x = try b.add("tokens", .input(shape: [c.sequenceLength]))
        x = try b.add("wte", .embedding(vocabulary: c.vocabulary, dim: c.dModel), inputs: [x])
        x = try b.add("wpe", .positionEmbedding(length: c.sequenceLength), inputs: [x])
        for layer in 0..<c.layers {
            let p = "h.\(layer)"
            let attentionInput = try b.unary("\(p).ln_1", .layerNorm, x)
            let q = try b.linear("\(p).attn.q_proj", attentionInput, out: c.dModel)
            let k = try b.linear("\(p).attn.k_proj", attentionInput, out: c.dModel)
            let v = try b.linear("\(p).attn.v_proj", attentionInput, out: c.dModel)
            let scores = try b.add("\(p).attn.scores", .attentionScores(heads: c.heads, causal: true), inputs: [q, k])
            let probabilities = try b.unary("\(p).attn.softmax", .softmax, scores)
            let context = try b.add("\(p).attn.context", .attentionContext(heads: c.heads), inputs: [probabilities, v])
            let projected = try b.linear("\(p).attn.c_proj", context, out: c.dModel)
            x = try b.add("\(p).attn.add", .add, inputs: [x, projected])
            let mlpInput = try b.unary("\(p).ln_2", .layerNorm, x)
            var hidden = try b.linear("\(p).mlp.c_fc", mlpInput, out: c.dFF)
            hidden = try b.unary("\(p).mlp.gelu", .gelu, hidden)
            let mlpOutput = try b.linear("\(p).mlp.c_proj", hidden, out: c.dModel)
            x = try b.add("\(p).mlp.add", .add, inputs: [x, mlpOutput])
        }
        x = try b.unary("ln_f", .layerNorm, x)
        _ = try b.linear("lm_head", x, out: c.vocabulary, bias: false, role: .classifier, tiedTo: "wte")
        return try b.build(name: c.name, metadata: NetworkMetadata(
            transformer: TransformerShape(dModel: c.dModel, heads: c.heads), parallelActivation: .afterSum, family: .gpt))
    }
}
