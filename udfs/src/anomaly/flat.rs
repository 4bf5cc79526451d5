//! The trained forest flattened for scoring: what a `Model` stores and scores with.
//!
//! The crate's trees are boxed nodes (a pointer chase and a 7-wide `(x − p)·n` per level, trees
//! scattered over the heap). Here every tree is padded to a complete binary tree of the forest's
//! depth, stored contiguously (node i's children are 2i+1 and 2i+2: no child indices to load):
//! - an internal node is 8 f32: the normal vector n and, last, the offset n·p, so with the line
//!   padded by −1 the split is one 8-wide dot product (`> 0` goes right, as in the crate);
//! - a leaf of the crate above the full depth becomes a chain of pass-through nodes (n = 0, so
//!   the product is 0 and the line goes left) ending in a bottom slot, so every line takes
//!   exactly `depth` steps: no branches on the tree's shape, and several lines (or trees) run
//!   interleaved without waiting on one another;
//! - a bottom slot holds the path length the crate would return there: the leaf's depth plus
//!   c(samples at the leaf), the expected depth of the unbuilt subtree.
//!
//! The arithmetic is f32 instead of the crate's f64, and n·x − n·p instead of (x − p)·n: a line
//! whose projection is within float rounding of a split (about 1e-7 relative) can go the other
//! way, changing one tree's path; the test bounds the effect on scores. Scores of a stored model
//! are exact across a JSON round trip (shortest round-trip floats).
use super::features::D;
use super::AnomalyError;
use extended_isolation_forest::Forest;
use serde::{Deserialize, Serialize};

/// Floats per internal node: the normal vector, then the offset.
pub const W: usize = D + 1;
/// Inputs are clamped to ±this before the f32 products, so no product or sum overflows (features
/// are logarithms, well inside it).
const INPUT_LIMIT: f64 = 1e6;
/// Deepest forest accepted from JSON: 2^24 slots per tree is already far beyond any sample size
/// worth training on; the bound keeps a corrupt file from asking for absurd allocations.
const MAX_DEPTH: u32 = 24;
/// Lines scored together in `score_batch`: their padded rows (32 B each) and path sums stay in
/// L1 beside one tree (255 nodes of 32 B and 256 leaves of 8 B at the default depth 8) while all
/// trees pass over them.
const BLOCK: usize = 256;
/// Lines advanced together through one tree: independent dependency chains for the CPU to overlap.
const LANES: usize = 8;

/// A line as the flat forest reads it: the features as f32, then −1 (multiplies the offset).
pub type Row = [f32; W];

/// The forest as contiguous arrays; see the module comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Repr", into = "Repr")]
pub struct FlatForest {
    depth: u32,
    trees: usize,
    /// `trees` × (2^depth − 1) internal nodes, tree by tree, each in breadth-first order.
    nodes: Vec<Row>,
    /// `trees` × 2^depth path lengths at the bottom slots.
    leaves: Vec<f64>,
    /// c(sample size): the average path length the mean is normalized by.
    c: f64,
}

/// The stored form, validated on the way in so scoring never indexes out of bounds.
#[derive(Serialize, Deserialize)]
struct Repr {
    depth: u32,
    trees: usize,
    nodes: Vec<Row>,
    leaves: Vec<f64>,
    c: f64,
}

impl From<FlatForest> for Repr {
    fn from(f: FlatForest) -> Self {
        Self { depth: f.depth, trees: f.trees, nodes: f.nodes, leaves: f.leaves, c: f.c }
    }
}

impl TryFrom<Repr> for FlatForest {
    type Error = String;

    fn try_from(r: Repr) -> Result<Self, String> {
        if r.depth == 0 || r.depth > MAX_DEPTH || r.trees == 0 || !(r.c.is_finite() && r.c > 0.0) {
            return Err(format!("bad forest: depth {}, {} trees, c {}", r.depth, r.trees, r.c));
        }
        let slots = 1usize << r.depth;
        if r.nodes.len() != r.trees * (slots - 1) || r.leaves.len() != r.trees * slots {
            return Err(format!(
                "bad forest: {} nodes and {} leaves for {} trees",
                r.nodes.len(),
                r.leaves.len(),
                r.trees
            ));
        }
        Ok(Self { depth: r.depth, trees: r.trees, nodes: r.nodes, leaves: r.leaves, c: r.c })
    }
}

/// The crate's forest as its serde derive writes it (its fields are private; serde is the
/// public view of them).
#[derive(Deserialize)]
struct EifForest {
    avg_path_length_c: f64,
    trees: Vec<EifTree>,
}

#[derive(Deserialize)]
struct EifTree {
    root: EifNode,
}

#[derive(Deserialize)]
enum EifNode {
    Ex { num_samples: usize },
    In { left: Box<EifNode>, right: Box<EifNode>, n: [f64; D], p: [f64; D] },
}

impl EifNode {
    fn depth(&self) -> u32 {
        match self {
            EifNode::Ex { .. } => 0,
            EifNode::In { left, right, .. } => 1 + left.depth().max(right.depth()),
        }
    }
}

/// Expected path length of an unsuccessful search among n points (the crate's `c_factor`).
fn c_factor(n: usize) -> f64 {
    let n = n as f64;
    2.0 * ((n - 1.0).ln() + 0.5772156649) - (2.0 * (n - 1.0) / n)
}

/// Fills slot `pos` (at `level`) of one padded tree from `node`.
fn place(node: &EifNode, pos: usize, level: u32, depth: u32, nodes: &mut [Row], leaves: &mut [f64]) {
    let internal = nodes.len();
    match node {
        EifNode::In { left, right, n, p } => {
            let mut row = [0f32; W];
            for (r, v) in row.iter_mut().zip(n) {
                *r = *v as f32;
            }
            row[D] = n.iter().zip(p).map(|(n, p)| n * p).sum::<f64>() as f32;
            nodes[pos] = row;
            place(left, 2 * pos + 1, level + 1, depth, nodes, leaves);
            place(right, 2 * pos + 2, level + 1, depth, nodes, leaves);
        }
        EifNode::Ex { num_samples } => {
            let adjust = if *num_samples <= 1 { 0.0 } else { c_factor(*num_samples) };
            // Pass-through nodes (already zero) lead left down to the bottom slot.
            let mut slot = pos;
            for _ in level..depth {
                slot = 2 * slot + 1;
            }
            leaves[slot - internal] = f64::from(level) + adjust;
        }
    }
}

/// The split: `> 0` goes right (the crate sends `<= 0` left).
#[inline(always)]
fn right(n: &Row, x: &Row) -> usize {
    // Two 4-wide halves then a pairwise sum: the shape the vectorizer turns into SIMD.
    let mut s = [0f32; 4];
    for k in 0..4 {
        s[k] = n[k] * x[k] + n[k + 4] * x[k + 4];
    }
    usize::from((s[0] + s[2]) + (s[1] + s[3]) > 0.0)
}

impl FlatForest {
    /// Flattens a trained forest (through its serde representation).
    pub fn from_forest(forest: &Forest<f64, D>) -> Result<Self, AnomalyError> {
        let eif: EifForest = serde_json::from_value(serde_json::to_value(forest)?)?;
        let depth = eif.trees.iter().map(|t| t.root.depth()).max().unwrap_or(0);
        if eif.trees.is_empty() || depth == 0 || depth > MAX_DEPTH {
            return Err(AnomalyError::Params(format!("cannot flatten {} trees of depth {depth}", eif.trees.len())));
        }
        let slots = 1usize << depth;
        let mut nodes = vec![[0f32; W]; eif.trees.len() * (slots - 1)];
        let mut leaves = vec![0f64; eif.trees.len() * slots];
        for (t, tree) in eif.trees.iter().enumerate() {
            let n = &mut nodes[t * (slots - 1)..(t + 1) * (slots - 1)];
            place(&tree.root, 0, 0, depth, n, &mut leaves[t * slots..(t + 1) * slots]);
        }
        Ok(Self { depth, trees: eif.trees.len(), nodes, leaves, c: eif.avg_path_length_c })
    }

    pub fn trees(&self) -> usize {
        self.trees
    }

    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// A feature vector as the flat forest reads it (finite values expected; see `INPUT_LIMIT`).
    pub fn row(x: &[f64; D]) -> Row {
        let mut r = [-1f32; W];
        for (r, v) in r.iter_mut().zip(x) {
            *r = v.clamp(-INPUT_LIMIT, INPUT_LIMIT) as f32;
        }
        r
    }

    fn score_of(&self, path_sum: f64) -> f64 {
        2f64.powf(-(path_sum / self.trees as f64) / self.c)
    }

    /// The crate's score: 2^(−mean path length ÷ c(sample size)).
    pub fn score(&self, x: &Row) -> f64 {
        let internal = (1usize << self.depth) - 1;
        let mut sum = 0.0;
        for (nodes, leaves) in self.nodes.chunks_exact(internal).zip(self.leaves.chunks_exact(internal + 1)) {
            let mut i = 0;
            for _ in 0..self.depth {
                i = 2 * i + 1 + right(&nodes[i], x);
            }
            sum += leaves[i - internal];
        }
        self.score_of(sum)
    }

    /// Scores of many lines, identical to `score` of each: blocks of lines stay in cache while
    /// the trees pass over them, and `LANES` lines go down a tree together.
    pub fn score_batch(&self, xs: &[Row], out: &mut Vec<f64>) {
        out.clear();
        out.reserve(xs.len());
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above. The arithmetic is the same
            // (Rust does not fuse or reorder float operations), so the scores are too.
            unsafe { self.batch_avx2(xs, out) };
            return;
        }
        self.batch(xs, out);
    }

    /// `batch` compiled for AVX2: the 8-wide dot product becomes one vector multiply.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn batch_avx2(&self, xs: &[Row], out: &mut Vec<f64>) {
        self.batch(xs, out);
    }

    #[inline(always)]
    fn batch(&self, xs: &[Row], out: &mut Vec<f64>) {
        let internal = (1usize << self.depth) - 1;
        let mut sums = [0f64; BLOCK];
        for block in xs.chunks(BLOCK) {
            let sums = &mut sums[..block.len()];
            sums.fill(0.0);
            for (nodes, leaves) in self.nodes.chunks_exact(internal).zip(self.leaves.chunks_exact(internal + 1)) {
                let mut lanes = block.chunks_exact(LANES);
                let mut sum_lanes = sums.chunks_exact_mut(LANES);
                for (rows, s) in (&mut lanes).zip(&mut sum_lanes) {
                    let mut at = [0usize; LANES];
                    for _ in 0..self.depth {
                        for (i, x) in at.iter_mut().zip(rows) {
                            *i = 2 * *i + 1 + right(&nodes[*i], x);
                        }
                    }
                    for (s, i) in s.iter_mut().zip(at) {
                        *s += leaves[i - internal];
                    }
                }
                for (x, s) in lanes.remainder().iter().zip(sum_lanes.into_remainder()) {
                    let mut i = 0;
                    for _ in 0..self.depth {
                        i = 2 * i + 1 + right(&nodes[i], x);
                    }
                    *s += leaves[i - internal];
                }
            }
            out.extend(sums.iter().map(|s| self.score_of(*s)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use extended_isolation_forest::ForestOptions;
    use testkit::anomaly as synthetic;

    fn forest(trees: usize, sample_size: usize, rows: &[[f64; D]]) -> Forest<f64, D> {
        let options = ForestOptions { n_trees: trees, sample_size, max_tree_depth: None, extension_level: D - 1 };
        Forest::from_slice(rows, &options).unwrap()
    }

    /// Training rows with unknowns filled (the crate needs finite values, as `Model` gives it).
    fn rows(n: usize) -> (Vec<[f64; D]>, Vec<[f64; D]>) {
        let set = synthetic::split(3, n, n / 2);
        let fill = |r: &[f64; D]| r.map(|v| if v.is_finite() { v } else { 0.0 });
        (set.train.rows.iter().map(fill).collect(), set.test.rows.iter().map(fill).collect())
    }

    #[test]
    fn scores_as_the_crate_does() {
        let (train, test) = rows(6_000);
        for (trees, sample) in [(100, 256), (7, 64), (1, 2)] {
            let f = forest(trees, sample, &train);
            let flat = FlatForest::from_forest(&f).unwrap();
            assert_eq!(flat.trees(), trees);
            let flat_rows: Vec<Row> = test.iter().map(FlatForest::row).collect();
            let mut batch = vec![];
            flat.score_batch(&flat_rows, &mut batch);
            let mut close = 0;
            for ((x, r), b) in test.iter().zip(&flat_rows).zip(&batch) {
                let (want, got) = (f.score(x), flat.score(r));
                assert_eq!(got.to_bits(), b.to_bits(), "batch and single agree exactly");
                // f32 rounding may send a line the other way at a split it nearly touches: one
                // tree's path changes, so the score moves a little, never much.
                assert!((want - got).abs() < 0.02, "{trees} trees: {want} vs {got} at {x:?}");
                close += usize::from((want - got).abs() < 1e-9);
            }
            assert!(close * 1000 >= test.len() * 995, "{trees} trees: {close} of {} within 1e-9", test.len());
        }
    }

    #[test]
    fn round_trips_and_refuses_inconsistent_json() {
        let (train, test) = rows(2_000);
        let flat = FlatForest::from_forest(&forest(10, 128, &train)).unwrap();
        let back: FlatForest = serde_json::from_slice(&serde_json::to_vec(&flat).unwrap()).unwrap();
        assert_eq!(back, flat);
        let r = FlatForest::row(&test[0]);
        assert_eq!(back.score(&r).to_bits(), flat.score(&r).to_bits());
        let mut v = serde_json::to_value(&flat).unwrap();
        v["trees"] = 11.into();
        assert!(serde_json::from_value::<FlatForest>(v).is_err());
        // Absurd inputs stay finite; NaN goes left everywhere (callers fill it first).
        assert!(flat.score(&FlatForest::row(&[f64::MAX, f64::NEG_INFINITY, 0.0, 0.0, 0.0, 0.0, 1e300])).is_finite());
        assert!(flat.score(&FlatForest::row(&[f64::NAN; D])).is_finite());
    }
}
