//! PP-OCRv4 text detection (DB: a per-pixel text probability map, boxes from its blobs), as
//! rapidocr-onnxruntime 1.4.4 runs it (`ch_ppocr_det/` and `main.py` in its wheel): the page is
//! scaled to at most 2000 px on its long side, sides rounded to multiples of 32, normalised with
//! mean = std = 0.5; the map is thresholded at 0.3, dilated 2x2, and each blob's minimum-area
//! rectangle is kept when the map's mean inside it is at least 0.5, then grown by
//! area * 1.6 / perimeter on every side ("unclip").
use image::{GrayImage, Luma};
use imageproc::contours::{find_contours, BorderType};
use imageproc::point::Point;
use ndarray::Array4;
use ort::session::Session;
use ort::value::Tensor;

/// The long side the page is reduced to before detection (rapidocr's `max_side_len`).
const MAX_SIDE: f64 = 2000.0;
/// Short sides below this are scaled up to it (rapidocr's det `limit_side_len`, `limit_type: min`).
const MIN_SIDE: f64 = 736.0;
const THRESH: f32 = 0.3;
const BOX_THRESH: f32 = 0.5;
const UNCLIP_RATIO: f32 = 1.6;
const MAX_CANDIDATES: usize = 1000;
/// Blobs whose rectangle has a side under this many map pixels are noise.
const MIN_SIZE: f32 = 3.0;

/// A text box on the page: top-left, top-right, bottom-right, bottom-left, in page pixels.
pub type Quad = [[f32; 2]; 4];

/// A rotated rectangle: centre, unit vector along its width (the more horizontal side, pointing
/// right), width and height. The unit vector across it is `(-u[1], u[0])`, pointing down.
#[derive(Debug, Clone, Copy, PartialEq)]
struct RotRect {
    c: [f32; 2],
    u: [f32; 2],
    w: f32,
    h: f32,
}

/// Text boxes of a page, in reading order (top to bottom, left to right within a line).
pub fn detect(session: &mut Session, img: &GrayImage) -> Result<Vec<Quad>, String> {
    let (mw, mh) = input_size(img.width(), img.height());
    let input = normalise(&super::scaled(img, mw, mh));
    let tensor = Tensor::from_array(input).map_err(|e| format!("detection input: {e}"))?;
    let outputs = session.run(ort::inputs![tensor]).map_err(|e| format!("detection: {e}"))?;
    let (shape, prob) = outputs[0].try_extract_tensor::<f32>().map_err(|e| format!("detection output: {e}"))?;
    if shape.len() != 4 || shape[2] as u32 != mh || shape[3] as u32 != mw {
        return Err(format!("detection output has shape {shape:?}, expected [1, 1, {mh}, {mw}]"));
    }
    let (sx, sy) = (img.width() as f32 / mw as f32, img.height() as f32 / mh as f32);
    let mut quads: Vec<Quad> = boxes(prob, mw, mh)
        .into_iter()
        .map(|r| to_page(&r, sx, sy, img.width(), img.height()))
        .filter(|q| side(q[0], q[1]) > 3.0 && side(q[0], q[3]) > 3.0)
        .collect();
    // rapidocr's `sorted_boxes`: 10 pixels of its detector's image.
    reading_order(&mut quads, 10.0 * sy);
    Ok(quads)
}

/// The detector's input size: the long side at most `MAX_SIDE`, the short side at least
/// `MIN_SIDE`, both rounded to multiples of 32 (the network downsamples 32 times).
/// Python's `round` (ties to even) as rapidocr calls it: a 2000 px side is 62.5 x 32 and becomes
/// 1984, not 2016.
fn input_size(w: u32, h: u32) -> (u32, u32) {
    let (w, h) = (w as f64, h as f64);
    let mut r = (MAX_SIDE / w.max(h)).min(1.0);
    if w.min(h) * r < MIN_SIDE {
        r = MIN_SIDE / w.min(h);
    }
    let round32 = |v: f64| (((v * r).floor() / 32.0).round_ties_even() as u32 * 32).max(32);
    (round32(w), round32(h))
}

/// NCHW, three identical channels (the model was trained on colour), (v / 255 - 0.5) / 0.5.
fn normalise(img: &GrayImage) -> Array4<f32> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let plane: Vec<f32> = img.as_raw().iter().map(|&v| v as f32 / 127.5 - 1.0).collect();
    let data = [plane.as_slice(), &plane, &plane].concat();
    Array4::from_shape_vec((1, 3, h, w), data).expect("three planes of h x w")
}

/// DB postprocessing over the probability map (`DBPostProcess.boxes_from_bitmap`).
fn boxes(prob: &[f32], w: u32, h: u32) -> Vec<RotRect> {
    let mask = dilated_mask(prob, w, h);
    find_contours::<i32>(&mask)
        .into_iter()
        // A hole's border lies inside its blob, whose box already holds that text.
        .filter(|c| c.border_type == BorderType::Outer)
        .take(MAX_CANDIDATES)
        .filter_map(|c| {
            let pts: Vec<Point<f32>> = c.points.iter().map(|p| Point::new(p.x as f32, p.y as f32)).collect();
            let r = min_area_rect(&pts);
            if r.w.min(r.h) < MIN_SIZE || box_score(prob, w, h, &r) < BOX_THRESH {
                return None;
            }
            let grown = unclip(r);
            (grown.w.min(grown.h) >= MIN_SIZE + 2.0).then_some(grown)
        })
        .collect()
}

/// `prob > THRESH`, dilated by a 2x2 kernel anchored at its bottom-right (OpenCV's anchor for an
/// even kernel): a pixel is set when it or its left, upper or upper-left neighbour is above.
fn dilated_mask(prob: &[f32], w: u32, h: u32) -> GrayImage {
    let on = |x: u32, y: u32| prob[(y * w + x) as usize] > THRESH;
    GrayImage::from_fn(w, h, |x, y| {
        let hit = on(x, y) || (x > 0 && on(x - 1, y)) || (y > 0 && (on(x, y - 1) || (x > 0 && on(x - 1, y - 1))));
        Luma([if hit { 255 } else { 0 }])
    })
}

/// The smallest-area rectangle around the points (OpenCV's `minAreaRect`): one of its sides lies
/// on an edge of their convex hull, so every hull edge is tried.
fn min_area_rect(pts: &[Point<f32>]) -> RotRect {
    let hull = imageproc::geometry::convex_hull(pts.to_vec());
    let mut best: Option<(f32, RotRect)> = None;
    for (i, a) in hull.iter().enumerate() {
        let b = hull[(i + 1) % hull.len()];
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let len = dx.hypot(dy);
        if len == 0.0 {
            continue;
        }
        let u = [dx / len, dy / len];
        let v = [-u[1], u[0]];
        let (mut s0, mut s1, mut t0, mut t1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in &hull {
            let (s, t) = (p.x * u[0] + p.y * u[1], p.x * v[0] + p.y * v[1]);
            (s0, s1, t0, t1) = (s0.min(s), s1.max(s), t0.min(t), t1.max(t));
        }
        let area = (s1 - s0) * (t1 - t0);
        if best.is_none_or(|(a, _)| area < a) {
            let (s, t) = ((s0 + s1) / 2.0, (t0 + t1) / 2.0);
            let c = [u[0] * s + v[0] * t, u[1] * s + v[1] * t];
            best = Some((area, RotRect { c, u, w: s1 - s0, h: t1 - t0 }));
        }
    }
    let p = hull.first().copied().unwrap_or(Point::new(0.0, 0.0));
    upright(best.map_or(RotRect { c: [p.x, p.y], u: [1.0, 0.0], w: 0.0, h: 0.0 }, |(_, r)| r))
}

/// The same rectangle with `u` along its more horizontal side, pointing right: width is then
/// along the text line of a horizontal page.
fn upright(r: RotRect) -> RotRect {
    let r = if r.u[0].abs() < r.u[1].abs() { RotRect { u: [-r.u[1], r.u[0]], w: r.h, h: r.w, ..r } } else { r };
    if r.u[0] < 0.0 {
        RotRect { u: [-r.u[0], -r.u[1]], ..r }
    } else {
        r
    }
}

/// Mean probability inside the rectangle (`box_score_fast`; the half-pixel margin stands for
/// `fillPoly` drawing the pixels its edges cross).
fn box_score(prob: &[f32], w: u32, h: u32, r: &RotRect) -> f32 {
    let (lo, hi) = bounds(&corners(r));
    let clampi = |v: f32, max: u32| (v.max(0.0) as u32).min(max - 1);
    let (x0, x1) = (clampi(lo[0].floor(), w), clampi(hi[0].ceil(), w));
    let (y0, y1) = (clampi(lo[1].floor(), h), clampi(hi[1].ceil(), h));
    let v = [-r.u[1], r.u[0]];
    let (mut sum, mut n) = (0.0f64, 0u32);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (dx, dy) = (x as f32 - r.c[0], y as f32 - r.c[1]);
            let (s, t) = (dx * r.u[0] + dy * r.u[1], dx * v[0] + dy * v[1]);
            if s.abs() <= r.w / 2.0 + 0.5 && t.abs() <= r.h / 2.0 + 0.5 {
                sum += prob[(y * w + x) as usize] as f64;
                n += 1;
            }
        }
    }
    if n == 0 {
        0.0
    } else {
        (sum / n as f64) as f32
    }
}

/// The DB map marks a shrunk text kernel; the box is grown back by `area * ratio / perimeter` on
/// every side. pyclipper's rounded offset followed by `minAreaRect` is exactly this for a
/// rectangle: the rounded corners stay inside the grown rectangle.
fn unclip(r: RotRect) -> RotRect {
    let perimeter = 2.0 * (r.w + r.h);
    if perimeter == 0.0 {
        return r;
    }
    let d = r.w * r.h * UNCLIP_RATIO / perimeter;
    RotRect { w: r.w + 2.0 * d, h: r.h + 2.0 * d, ..r }
}

/// The least and greatest x and y of the corners.
pub fn bounds(q: &Quad) -> ([f32; 2], [f32; 2]) {
    q.iter().fold(([f32::MAX; 2], [f32::MIN; 2]), |(lo, hi), p| {
        ([lo[0].min(p[0]), lo[1].min(p[1])], [hi[0].max(p[0]), hi[1].max(p[1])])
    })
}

fn corners(r: &RotRect) -> Quad {
    let (u, v) = (r.u, [-r.u[1], r.u[0]]);
    let at = |a: f32, b: f32| {
        [r.c[0] + u[0] * a * r.w / 2.0 + v[0] * b * r.h / 2.0, r.c[1] + u[1] * a * r.w / 2.0 + v[1] * b * r.h / 2.0]
    };
    [at(-1.0, -1.0), at(1.0, -1.0), at(1.0, 1.0), at(-1.0, 1.0)]
}

/// Map pixels to page pixels, rounded and clipped to the page (`clip_det_res`).
fn to_page(r: &RotRect, sx: f32, sy: f32, w: u32, h: u32) -> Quad {
    corners(r).map(|p| [(p[0] * sx).round().clamp(0.0, (w - 1) as f32), (p[1] * sy).round().clamp(0.0, (h - 1) as f32)])
}

fn side(a: [f32; 2], b: [f32; 2]) -> f32 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// rapidocr's `sorted_boxes`: by top-left corner, top first; then boxes whose tops are within
/// `same_line` pixels are put left to right.
fn reading_order(quads: &mut [Quad], same_line: f32) {
    quads.sort_by(|a, b| (a[0][1], a[0][0]).partial_cmp(&(b[0][1], b[0][0])).unwrap_or(std::cmp::Ordering::Equal));
    for i in 0..quads.len().saturating_sub(1) {
        for j in (0..=i).rev() {
            if (quads[j + 1][0][1] - quads[j][0][1]).abs() < same_line && quads[j + 1][0][0] < quads[j][0][0] {
                quads.swap(j, j + 1);
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_size_limits_and_rounds() {
        // A 288 dpi letter page: long side to 2000, both sides multiples of 32.
        assert_eq!(input_size(2448, 3168), (1536, 1984));
        // A small photo: short side up to 736.
        let (w, h) = input_size(800, 653);
        assert_eq!(h, 736);
        assert_eq!(w % 32, 0);
    }

    #[test]
    fn min_area_rect_of_a_tilted_bar() {
        // A 40x10 bar rotated by atan(0.1): the rectangle recovers its size and direction.
        let (c, s) = (1.0f32 / 1.01f32.sqrt(), 0.1f32 / 1.01f32.sqrt());
        let pts: Vec<Point<f32>> = [(0.0, 0.0), (40.0, 0.0), (40.0, 10.0), (0.0, 10.0)]
            .iter()
            .map(|&(x, y): &(f32, f32)| Point::new(100.0 + x * c - y * s, 50.0 + x * s + y * c))
            .collect();
        let r = min_area_rect(&pts);
        assert!((r.w - 40.0).abs() < 1e-3 && (r.h - 10.0).abs() < 1e-3, "{r:?}");
        assert!((r.u[1] / r.u[0] - 0.1).abs() < 1e-4, "{r:?}");
    }

    #[test]
    fn one_blob_gives_one_grown_box() {
        // A 60x8 blob of probability 0.9 on a 128x64 map.
        let (w, h) = (128u32, 64u32);
        let prob: Vec<f32> = (0..w * h)
            .map(|i| if (20..80).contains(&(i % w)) && (30..38).contains(&(i / w)) { 0.9 } else { 0.0 })
            .collect();
        let b = boxes(&prob, w, h);
        assert_eq!(b.len(), 1, "{b:?}");
        // Dilation makes the blob 61x9 pixels (a 60x8 rectangle of centres); unclip grows each
        // side by 60*8*1.6/136.
        let d = 60.0 * 8.0 * 1.6 / 136.0;
        assert!((b[0].w - (60.0 + 2.0 * d)).abs() < 1e-3 && (b[0].h - (8.0 + 2.0 * d)).abs() < 1e-3, "{:?}", b[0]);
    }

    #[test]
    fn reading_order_puts_a_line_left_to_right() {
        let q = |x: f32, y: f32| [[x, y], [x + 10.0, y], [x + 10.0, y + 5.0], [x, y + 5.0]];
        let mut quads = vec![q(50.0, 12.0), q(0.0, 40.0), q(10.0, 14.0)];
        reading_order(&mut quads, 10.0);
        assert_eq!(quads, vec![q(10.0, 14.0), q(50.0, 12.0), q(0.0, 40.0)]);
    }
}
