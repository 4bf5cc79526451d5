//! Page images made easy for tesseract: small text upscaled, shadows and uneven light flattened
//! (each pixel divided by a local background estimate), skew removed. Each step is linear in the
//! pixels so preprocessing stays a small share of the page's OCR time.
use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};
use imageproc::geometric_transformations::{rotate_about_center, Border, Interpolation};

/// Pages narrower than this are upscaled: tesseract reads best with capitals ~25-35 px tall,
/// which bill text (8-10 pt) reaches near 300 dpi on a letter page.
const MIN_WIDTH: u32 = 2400;
/// Upscaling past 2x adds time and no accuracy.
const MAX_UPSCALE: f32 = 2.0;

/// Returns the prepared image and the factor its coordinates were scaled by.
pub fn prepare_for_ocr(img: &GrayImage) -> (GrayImage, f32) {
    let mut scale = 1.0f32;
    let mut img = if img.width() < MIN_WIDTH && img.width() > 0 {
        scale = (MIN_WIDTH as f32 / img.width() as f32).min(MAX_UPSCALE);
        let (w, h) = ((img.width() as f32 * scale) as u32, (img.height() as f32 * scale) as u32);
        imageops::resize(img, w, h, FilterType::Triangle)
    } else {
        img.clone()
    };
    flatten_background(&mut img);
    let angle = deskew_angle(&img);
    if angle.abs() > 0.15 {
        img = rotate_about_center(&img, -angle.to_radians(), Interpolation::Bilinear, Border::Constant(Luma([255u8])));
    }
    (img, scale)
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
            for y in (gy * cell)..((gy + 1) * cell).min(h) {
                for x in (gx * cell)..((gx + 1) * cell).min(w) {
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
    // Smooth the grid a little so cell edges do not show, then stretch it over the page.
    let grid = imageops::blur(&grid, 1.0);
    let bg = imageops::resize(&grid, w, h, FilterType::Triangle);
    for (p, b) in img.pixels_mut().zip(bg.pixels()) {
        let b = b[0].max(40) as u32;
        p[0] = ((p[0] as u32 * 255 / b).min(255)) as u8;
    }
}

/// Skew of the text lines in degrees (positive: lines fall to the right), found as the angle
/// whose horizontal projection of dark pixels is sharpest. Searches ±4°.
pub fn deskew_angle(img: &GrayImage) -> f32 {
    let factor = (img.width() / 800).max(1);
    let small = if factor > 1 {
        imageops::resize(img, img.width() / factor, img.height() / factor, FilterType::Triangle)
    } else {
        img.clone()
    };
    let dark: Vec<(f32, f32)> = small
        .enumerate_pixels()
        .filter(|(_, _, p)| p[0] < 128)
        .map(|(x, y, _)| (x as f32, y as f32))
        .collect();
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
