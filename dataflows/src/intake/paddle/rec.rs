//! PP-OCRv4 text recognition (SVTR with a CTC head), as rapidocr-onnxruntime 1.4.4 runs it
//! (`ch_ppocr_rec/` in its wheel): crops scaled to 48 px high keeping their aspect, batched six
//! at a time in order of aspect so a batch pads little, normalised (v / 255 - 0.5) / 0.5 and
//! zero-padded to the batch's widest; decoded greedily (best class per time step, repeats
//! merged, blanks dropped).
use image::GrayImage;
use ndarray::Array4;
use ort::session::Session;
use ort::value::Tensor;

const HEIGHT: u32 = 48;
/// The narrowest input (rapidocr's `rec_img_shape` [3, 48, 320]).
const MIN_WIDTH: u32 = 320;
const BATCH: usize = 6;
/// A bound on one crop's width (a 100:1 line): a page-wide line of small print at 400 dpi is
/// about 80:1, and the bound keeps a degenerate box from making a huge tensor.
const MAX_WIDTH: u32 = 100 * HEIGHT;

/// One recognised line: its text and the mean, over the characters kept, of their class
/// probability (rapidocr's score).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Line {
    pub text: String,
    pub confidence: f32,
}

/// The lines of `crops`, in their order. `dict` is the model's classes: blank first, then the
/// dictionary, then a space.
pub fn recognize(session: &mut Session, dict: &[String], crops: &[GrayImage]) -> Result<Vec<Line>, String> {
    let aspect = |i: usize| crops[i].width() as f32 / crops[i].height().max(1) as f32;
    let mut order: Vec<usize> = (0..crops.len()).collect();
    order.sort_by(|&a, &b| aspect(a).total_cmp(&aspect(b)));
    let mut lines = vec![Line::default(); crops.len()];
    for batch in order.chunks(BATCH) {
        let widest = batch.iter().map(|&i| aspect(i)).fold(MIN_WIDTH as f32 / HEIGHT as f32, f32::max);
        let width = ((HEIGHT as f32 * widest) as u32).min(MAX_WIDTH);
        let input = batch_input(batch.iter().map(|&i| &crops[i]), batch.len(), width);
        let tensor = Tensor::from_array(input).map_err(|e| format!("recognition input: {e}"))?;
        let outputs = session.run(ort::inputs![tensor]).map_err(|e| format!("recognition: {e}"))?;
        let (shape, probs) = outputs[0].try_extract_tensor::<f32>().map_err(|e| format!("recognition output: {e}"))?;
        if shape.len() != 3 || shape[0] as usize != batch.len() || shape[2] as usize != dict.len() {
            return Err(format!(
                "recognition output has shape {shape:?}, expected [{}, T, {}]",
                batch.len(),
                dict.len()
            ));
        }
        let step = shape[1] as usize * dict.len();
        for (k, &i) in batch.iter().enumerate() {
            lines[i] = ctc_decode(&probs[k * step..(k + 1) * step], dict);
        }
    }
    Ok(lines)
}

/// NCHW of `n` crops, each scaled to 48 px high (at most `width` wide), three identical channels,
/// zero (mid-grey after normalisation) to the right of each.
fn batch_input<'a>(crops: impl Iterator<Item = &'a GrayImage>, n: usize, width: u32) -> Array4<f32> {
    let (h, w) = (HEIGHT as usize, width as usize);
    let mut data = vec![0f32; n * 3 * h * w];
    for (k, crop) in crops.enumerate() {
        let ratio = crop.width() as f32 / crop.height().max(1) as f32;
        let cw = ((HEIGHT as f32 * ratio).ceil() as u32).clamp(1, width) as usize;
        let scaled = super::scaled(crop, cw as u32, HEIGHT);
        // Plain slices: this runs per pixel, in debug builds too.
        let plane = &mut data[k * 3 * h * w..][..h * w];
        for (y, row) in scaled.as_raw().chunks_exact(cw).enumerate() {
            for (dst, &v) in plane[y * w..y * w + cw].iter_mut().zip(row) {
                *dst = v as f32 / 127.5 - 1.0;
            }
        }
        let (first, rest) = data[k * 3 * h * w..][..3 * h * w].split_at_mut(h * w);
        rest[..h * w].copy_from_slice(first);
        rest[h * w..].copy_from_slice(first);
    }
    Array4::from_shape_vec((n, 3, h, w), data).expect("n crops of 3 x h x w")
}

/// Greedy CTC over one line's `T x classes` probabilities.
fn ctc_decode(probs: &[f32], dict: &[String]) -> Line {
    let mut text = String::new();
    let (mut sum, mut kept) = (0.0f64, 0usize);
    let mut prev = usize::MAX;
    for step in probs.chunks_exact(dict.len()) {
        let (mut best, mut p) = (0, f32::MIN);
        for (i, &q) in step.iter().enumerate() {
            if q > p {
                (best, p) = (i, q);
            }
        }
        if best != 0 && best != prev {
            text.push_str(&dict[best]);
            sum += p as f64;
            kept += 1;
        }
        prev = best;
    }
    Line { text, confidence: if kept == 0 { 0.0 } else { (sum / kept as f64) as f32 } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctc_merges_repeats_and_drops_blanks() {
        let dict: Vec<String> = ["<blank>", "1", "2", " "].iter().map(|s| s.to_string()).collect();
        // 1 1 blank 1 2 space 2: "11" needs the blank between, the repeated 1 at step two merges.
        let one_hot = |c: usize, p: f32| (0..4).map(|i| if i == c { p } else { (1.0 - p) / 3.0 }).collect::<Vec<f32>>();
        let probs: Vec<f32> = [(1, 0.9), (1, 0.5), (0, 0.99), (1, 0.8), (2, 0.7), (3, 0.6), (2, 1.0)]
            .iter()
            .flat_map(|&(c, p)| one_hot(c, p))
            .collect();
        let line = ctc_decode(&probs, &dict);
        assert_eq!(line.text, "112 2");
        assert!((line.confidence - (0.9 + 0.8 + 0.7 + 0.6 + 1.0) / 5.0).abs() < 1e-6, "{line:?}");
        assert_eq!(ctc_decode(&one_hot(0, 1.0), &dict), Line { text: String::new(), confidence: 0.0 });
    }

    #[test]
    fn batch_input_pads_with_zero() {
        let crop = GrayImage::from_pixel(100, 50, image::Luma([255]));
        let input = batch_input(std::iter::once(&crop), 1, 320);
        // 100x50 scales to 96x48: white (1.0) there, padding (0.0) after.
        assert_eq!(input[[0, 2, 47, 95]], 1.0);
        assert_eq!(input[[0, 0, 0, 96]], 0.0);
    }
}
