//! Page images made easy for tesseract: small text upscaled, shadows and uneven light flattened
//! (each pixel divided by a local background estimate), skew removed. Each step is linear in the
//! pixels so preprocessing stays a small share of the page's OCR time.
use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};
use imageproc::geometric_transformations::{Border, Interpolation};

/// Pages narrower than this (under ~140 dpi for a letter page) are upscaled: below it bill
/// text (8-10 pt) is too small for tesseract. Above it upscaling cost time and read no better
/// on the fixture corpus (200-300 dpi scans and photos).
const MIN_WIDTH: u32 = 1200;
/// What a page under `MIN_WIDTH` is upscaled to: a statement published as an 800-pixel image
/// (text 6 pixels high) read no line at 1.5x and every amount at 3x (Stanford's sample
/// statement back page).
const UPSCALED_WIDTH: u32 = 2400;
/// Upscaling past 3x adds time and no accuracy.
const MAX_UPSCALE: f32 = 3.0;

/// Which preprocessing steps run (all by default; the OCR bench and tuning switch them).
#[derive(Debug, Clone, Copy)]
pub struct Steps {
    pub dewarp: bool,
    pub upscale: bool,
    pub flatten: bool,
    pub deskew: bool,
    /// Table rules and redaction boxes erased (see `erase_rules`).
    pub rules: bool,
}

impl Default for Steps {
    fn default() -> Self {
        Self { dewarp: true, upscale: true, flatten: true, deskew: true, rules: false }
    }
}

/// A page image ready for recognition, and how its coordinates relate to the input's.
pub struct PreparedImage {
    pub img: GrayImage,
    /// Pixels of `img` per pixel of the (dewarped) input.
    pub scale: f32,
    /// Skew of the text lines in degrees. The image is not rotated (tesseract reads lines a few
    /// degrees off; rotating a page costs as much as a third of recognising it): word boxes are
    /// rotated back instead, which is what row grouping needs.
    pub skew: f32,
}

pub fn prepare_for_ocr(img: &GrayImage) -> PreparedImage {
    prepare_with(img, Steps::default())
}

pub fn prepare_with(img: &GrayImage, steps: Steps) -> PreparedImage {
    let mut scale = 1.0f32;
    let dewarped = if steps.dewarp { dewarp_page(img) } else { None };
    let img = dewarped.as_ref().unwrap_or(img);
    let mut img = if steps.upscale && img.width() < MIN_WIDTH && img.width() > 0 {
        scale = (UPSCALED_WIDTH as f32 / img.width() as f32).min(MAX_UPSCALE);
        let (w, h) = ((img.width() as f32 * scale) as u32, (img.height() as f32 * scale) as u32);
        imageops::resize(img, w, h, FilterType::Triangle)
    } else {
        match dewarped {
            Some(d) => d,
            None => img.clone(),
        }
    };
    if steps.flatten {
        flatten_background(&mut img);
    }
    if steps.rules {
        erase_rules(&mut img);
    }
    let skew = if steps.deskew { deskew_angle(&img) } else { 0.0 };
    PreparedImage { img, scale, skew }
}

/// A `factor`-times smaller copy, each pixel the mean of its block: the analyses below need only
/// a rough picture, and a box mean is several times cheaper than a filtered resize.
fn thumbnail(img: &GrayImage, factor: u32) -> GrayImage {
    let factor = factor.max(1);
    let (w, h) = (img.width() / factor, img.height() / factor);
    let mut out = GrayImage::new(w.max(1), h.max(1));
    let raw = img.as_raw();
    let stride = img.width() as usize;
    let n = factor * factor;
    for ty in 0..h {
        for tx in 0..w {
            let mut sum = 0u32;
            for y in ty * factor..(ty + 1) * factor {
                let row = &raw[y as usize * stride..];
                for x in tx * factor..(tx + 1) * factor {
                    sum += row[x as usize] as u32;
                }
            }
            out.put_pixel(tx, ty, Luma([(sum / n) as u8]));
        }
    }
    out
}

/// Rotates a point of a `w` x `h` image by -`skew` degrees about the centre: where it would be
/// on the straightened page.
pub fn unskew(x: f32, y: f32, w: f32, h: f32, skew: f32) -> (f32, f32) {
    let (s, c) = skew.to_radians().sin_cos();
    let (dx, dy) = (x - w / 2.0, y - h / 2.0);
    (dx * c + dy * s + w / 2.0, dy * c - dx * s + h / 2.0)
}

/// A photographed page: the paper is a light quadrilateral on a darker background, seen in
/// perspective. Finds its corners (extreme points of the light pixels along the diagonals) and
/// maps it back to a rectangle. `None` when the page fills the image (a scan) or no clear page
/// is found. Word boxes of a dewarped page are in the rectangle's pixels.
pub fn dewarp_page(img: &GrayImage) -> Option<GrayImage> {
    let (w, h) = img.dimensions();
    if w < 200 || h < 200 {
        return None;
    }
    let factor = (w / 400).max(1);
    let small = thumbnail(img, factor);
    let level = imageproc::contrast::otsu_level(&small);
    let (sw, sh) = small.dimensions();
    let light = small.pixels().filter(|p| p[0] > level).count() as f32 / (sw * sh) as f32;
    // A scan is all paper; a photo with no visible border cannot be located either.
    if !(0.25..0.93).contains(&light) {
        return None;
    }
    // The border must be dark all round the page: check the image edges are mostly background.
    let edge_light = (0..sw)
        .flat_map(|x| [(x, 0), (x, sh - 1)])
        .chain((0..sh).flat_map(|y| [(0, y), (sw - 1, y)]))
        .filter(|&(x, y)| small.get_pixel(x, y)[0] > level)
        .count() as f32
        / (2 * (sw + sh)) as f32;
    if edge_light > 0.2 {
        return None;
    }
    let mut c = [(0f32, 0f32, f32::MAX), (0., 0., f32::MIN), (0., 0., f32::MIN), (0., 0., f32::MAX)];
    for (x, y, p) in small.enumerate_pixels() {
        if p[0] <= level {
            continue;
        }
        let (x, y) = (x as f32, y as f32);
        // top-left: min x+y; top-right: max x-y; bottom-right: max x+y; bottom-left: min x-y
        if x + y < c[0].2 {
            c[0] = (x, y, x + y);
        }
        if x - y > c[1].2 {
            c[1] = (x, y, x - y);
        }
        if x + y > c[2].2 {
            c[2] = (x, y, x + y);
        }
        if x - y < c[3].2 {
            c[3] = (x, y, x - y);
        }
    }
    let f = factor as f32;
    let from: [(f32, f32); 4] =
        [(c[0].0 * f, c[0].1 * f), (c[1].0 * f, c[1].1 * f), (c[2].0 * f, c[2].1 * f), (c[3].0 * f, c[3].1 * f)];
    let dist = |a: (f32, f32), b: (f32, f32)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    let out_w = ((dist(from[0], from[1]) + dist(from[3], from[2])) / 2.0).round();
    let out_h = ((dist(from[0], from[3]) + dist(from[1], from[2])) / 2.0).round();
    if out_w < 100.0 || out_h < 100.0 {
        return None;
    }
    let to = [(0.0, 0.0), (out_w - 1.0, 0.0), (out_w - 1.0, out_h - 1.0), (0.0, out_h - 1.0)];
    let projection = imageproc::geometric_transformations::Projection::from_control_points(from, to)?;
    let mut out = GrayImage::new(out_w as u32, out_h as u32);
    imageproc::geometric_transformations::warp_into(
        &img.clone(),
        projection,
        Interpolation::Bilinear,
        Border::Constant(Luma([255u8])),
        &mut out,
    );
    Some(out)
}

/// Boxed tables and redacted statements put long dark runs beside the text: a rule touching a
/// cell's digits was read as part of them ("1" as "1:", "0250|Pharmacy"), a redaction box
/// beside a column made tesseract drop the row. Runs longer than a twentieth of the page width
/// (horizontal) or a fortieth of its height (vertical) are no glyph of bill text at any
/// resolution pages are read at: their thin parts (rules, at most `THICK` pixels across) are
/// painted white, and so are rows of solid black (redaction boxes). A dark band with light text
/// in it (a coloured table header) has light pixels in its text rows and is left readable.
fn erase_rules(img: &mut GrayImage) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w < 200 || h < 200 {
        return;
    }
    let thick = (h / 300).max(3);
    let raw = img.as_raw();
    // A line of pixels: (first index, stride, length).
    let rows: Vec<Line> = (0..h).map(|y| (y * w, 1, w)).collect();
    let cols: Vec<Line> = (0..w).map(|x| (x, w, h)).collect();
    // How far each dark pixel's darkness extends across the run direction (u16: pages are
    // bounded by the pixel limit, far below 65535 pixels on a side).
    let across_rows = run_lengths(&cols, raw);
    let across_cols = run_lengths(&rows, raw);
    let mut erase = vec![false; w * h];
    for line in &rows {
        mark_runs(*line, raw, w / 20, |i| across_rows[i] as usize <= thick, &mut erase);
    }
    for line in &cols {
        mark_runs(*line, raw, h / 40, |i| across_cols[i] as usize <= thick, &mut erase);
    }
    for (p, e) in img.iter_mut().zip(&erase) {
        if *e {
            *p = 255;
        }
    }
}

const DARK: u8 = 110;

type Line = (usize, usize, usize);

/// For every pixel, the length of the unbroken dark run along `lines` it belongs to (0 if light).
fn run_lengths(lines: &[Line], raw: &[u8]) -> Vec<u16> {
    let mut out = vec![0u16; raw.len()];
    for &(at, stride, len) in lines {
        let mut start = 0;
        for k in 0..=len {
            if k < len && raw[at + k * stride] < DARK {
                continue;
            }
            let n = (k - start).min(u16::MAX as usize) as u16;
            (start..k).for_each(|j| out[at + j * stride] = n);
            start = k + 1;
        }
    }
    out
}

/// Marks the pixels of every run along `line` at least `min` long: the thin ones, or all of a
/// solid run (no light pixel in it). A scanned rule is broken by specks of paper and dotted by
/// the scanner: gaps of a few pixels do not end a run, but the run must be mostly dark.
fn mark_runs((at, stride, len): Line, raw: &[u8], min: usize, thin: impl Fn(usize) -> bool, erase: &mut [bool]) {
    const GAP: usize = 4;
    let (mut first, mut last) = (0usize, 0usize);
    let mut dark: Vec<usize> = Vec::new();
    let mut close = |dark: &mut Vec<usize>, first: usize, last: usize| {
        let len = last - first + 1;
        if len >= min && dark.len() * 10 >= len * 7 {
            let solid = dark.len() == len;
            dark.iter().filter(|&&i| solid || thin(i)).for_each(|&i| erase[i] = true);
        }
        dark.clear();
    };
    for (pos, i) in (0..len).map(|k| (k, at + k * stride)) {
        if raw[i] >= DARK {
            if !dark.is_empty() && pos - last > GAP {
                close(&mut dark, first, last);
            }
            continue;
        }
        if dark.is_empty() {
            first = pos;
        }
        dark.push(i);
        last = pos;
    }
    if !dark.is_empty() {
        close(&mut dark, first, last);
    }
}

/// Divides out the background (paper colour, shadow gradients), estimated as the local maximum
/// over a coarse grid so that text strokes do not darken it.
fn flatten_background(img: &mut GrayImage) {
    let (w, h) = img.dimensions();
    if w < 64 || h < 64 {
        return;
    }
    let cell = (w.max(h) / 48).max(8);
    let (gw, gh) = (w.div_ceil(cell), h.div_ceil(cell));
    let mut grid = GrayImage::new(gw, gh);
    for gy in 0..gh {
        for gx in 0..gw {
            let mut hist = [0u32; 256];
            let mut n = 0u32;
            // Every other pixel each way: the background estimate does not need them all.
            for y in ((gy * cell)..((gy + 1) * cell).min(h)).step_by(2) {
                for x in ((gx * cell)..((gx + 1) * cell).min(w)).step_by(2) {
                    hist[img.get_pixel(x, y)[0] as usize] += 1;
                    n += 1;
                }
            }
            // The 90th percentile rather than the max: robust to salt noise.
            let mut acc = 0u32;
            let mut level = 255u8;
            for v in (0..256).rev() {
                acc += hist[v];
                if acc * 10 >= n {
                    level = v as u8;
                    break;
                }
            }
            grid.put_pixel(gx, gy, Luma([level]));
        }
    }
    // Even light (a flatbed scan): nothing to divide out.
    let (lo, hi) = grid.pixels().fold((255u8, 0u8), |(lo, hi), p| (lo.min(p[0]), hi.max(p[0])));
    if hi.saturating_sub(lo) < 24 {
        return;
    }
    // Smooth the grid a little so cell edges do not show, then interpolate it over the page.
    let grid = imageops::blur(&grid, 1.0);
    let at = |gx: i64, gy: i64| {
        grid.get_pixel(gx.clamp(0, gw as i64 - 1) as u32, gy.clamp(0, gh as i64 - 1) as u32)[0] as f32
    };
    let c = cell as f32;
    let stride = w as usize;
    let raw = &mut **img;
    for y in 0..h {
        // Cell centres sit at (i + 0.5) * cell.
        let fy = (y as f32 + 0.5) / c - 0.5;
        let (gy, ty) = (fy.floor() as i64, fy - fy.floor());
        for x in 0..w {
            let fx = (x as f32 + 0.5) / c - 0.5;
            let (gx, tx) = (fx.floor() as i64, fx - fx.floor());
            let top = at(gx, gy) * (1.0 - tx) + at(gx + 1, gy) * tx;
            let bottom = at(gx, gy + 1) * (1.0 - tx) + at(gx + 1, gy + 1) * tx;
            let b = (top * (1.0 - ty) + bottom * ty).max(40.0);
            let p = &mut raw[y as usize * stride + x as usize];
            *p = ((*p as f32) * 255.0 / b).min(255.0) as u8;
        }
    }
}

/// Skew of the text lines in degrees (positive: lines fall to the right), found as the angle
/// whose horizontal projection of dark pixels is sharpest. Searches ±4°.
pub fn deskew_angle(img: &GrayImage) -> f32 {
    let factor = (img.width() / 800).max(1);
    let small = thumbnail(img, factor);
    let dark: Vec<(f32, f32)> =
        small.enumerate_pixels().filter(|(_, _, p)| p[0] < 128).map(|(x, y, _)| (x as f32, y as f32)).collect();
    if dark.len() < 200 {
        return 0.0;
    }
    let score = |deg: f32| -> f64 {
        let (s, c) = deg.to_radians().sin_cos();
        let rows = small.height() as usize + small.width() as usize;
        let mut hist = vec![0u32; rows * 2];
        for &(x, y) in &dark {
            let r = (y * c - x * s) as isize + rows as isize;
            if r >= 0 && (r as usize) < hist.len() {
                hist[r as usize] += 1;
            }
        }
        hist.iter().map(|&v| (v as f64) * (v as f64)).sum()
    };
    let search = |lo: f32, hi: f32, step: f32| -> f32 {
        let mut best = (f64::MIN, 0.0f32);
        let mut a = lo;
        while a <= hi + 1e-6 {
            let s = score(a);
            if s > best.0 {
                best = (s, a);
            }
            a += step;
        }
        best.1
    };
    let coarse = search(-4.0, 4.0, 0.5);
    search(coarse - 0.5, coarse + 0.5, 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;
    use imageproc::geometric_transformations::rotate_about_center;

    fn lines_image(angle_deg: f32) -> GrayImage {
        let mut img = GrayImage::from_pixel(1200, 900, Luma([255]));
        for row in 0..20 {
            let y0 = 60 + row * 40;
            for x in 100..1100u32 {
                for t in 0..6 {
                    if (x / 30) % 4 != 3 {
                        img.put_pixel(x, y0 + t, Luma([0]));
                    }
                }
            }
        }
        rotate_about_center(&img, angle_deg.to_radians(), Interpolation::Bilinear, Border::Constant(Luma([255])))
    }

    #[test]
    fn finds_the_skew_it_was_given() {
        for a in [-2.0f32, -0.7, 0.0, 1.3, 3.0] {
            let got = deskew_angle(&lines_image(a));
            assert!((got - a).abs() < 0.2, "rotated by {a}, estimated {got}");
        }
    }

    #[test]
    fn unskew_levels_a_skewed_line() {
        // Two points on a line falling 2 degrees to the right end up at the same height.
        let slope = 2.0f32.to_radians().tan();
        let (a, b) = ((100.0, 500.0), (1100.0, 500.0 + 1000.0 * slope));
        let (_, ya) = unskew(a.0, a.1, 1200.0, 1000.0, 2.0);
        let (_, yb) = unskew(b.0, b.1, 1200.0, 1000.0, 2.0);
        assert!((ya - yb).abs() < 0.01, "{ya} vs {yb}");
    }

    #[test]
    fn flattening_removes_a_shadow_gradient() {
        let mut img = GrayImage::from_pixel(400, 300, Luma([250]));
        for (x, _, p) in img.enumerate_pixels_mut() {
            p[0] = (250.0 * (0.55 + 0.45 * x as f32 / 400.0)) as u8;
        }
        flatten_background(&mut img);
        let left = img.get_pixel(10, 150)[0];
        let right = img.get_pixel(390, 150)[0];
        assert!(left > 230 && right > 230, "background after flattening: {left} .. {right}");
    }
}
