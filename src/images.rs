//! Picture bytes as the networks take them: their type read from the bytes themselves, and pictures
//! larger than a network takes scaled down to fit (Bluesky refuses photos over 1,000,000 bytes;
//! a phone photo is several MB).

use image::{DynamicImage, GenericImageView, codecs::jpeg::JpegEncoder, imageops::FilterType};

/// The image type the bytes themselves say (their magic numbers), which beats what the sender claimed.
pub fn sniff_image_type(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => Some("image/png"),
        [0xff, 0xd8, 0xff, ..] => Some("image/jpeg"),
        [b'G', b'I', b'F', b'8', ..] => Some("image/gif"),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some("image/webp"),
        _ => None,
    }
}

/// JPEG quality of a scaled-down picture.
const QUALITY: u8 = 85;
/// Below this many pixels on a side, scaling gives up: the limit is not meant for such pictures.
const SMALLEST_SIDE: u32 = 64;

/// A picture that fits a limit: its bytes and their type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fitted {
    pub bytes: Vec<u8>,
    pub mime: String,
}

/// `bytes` as they are when at most `max_bytes` long; otherwise scaled down and saved as JPEG until
/// they fit (an animation keeps its first frame). CPU work: call it off the async threads. The error
/// says why a picture cannot fit (unreadable bytes).
pub fn fit(bytes: Vec<u8>, mime: &str, max_bytes: usize) -> Result<Fitted, String> {
    if bytes.len() <= max_bytes {
        return Ok(Fitted {
            bytes,
            mime: mime.to_owned(),
        });
    }
    let original = image::load_from_memory(&bytes)
        .map_err(|e| format!("the picture cannot be read to scale it down: {e}"))?;
    // JPEG has no transparency: transparent parts become white rather than black.
    let flat = flatten(&original);
    let (width, height) = flat.dimensions();
    // Bytes grow with the area: start at the side ratio the size ratio suggests, then shrink further
    // by what each try missed.
    let mut scale = (max_bytes as f64 / bytes.len() as f64).sqrt().min(1.0);
    loop {
        let w = ((f64::from(width) * scale) as u32).max(1);
        let h = ((f64::from(height) * scale) as u32).max(1);
        if w.min(h) < SMALLEST_SIDE.min(width.min(height)) {
            return Err(format!(
                "the picture does not fit in {max_bytes} bytes even at {w}×{h} pixels"
            ));
        }
        let scaled = if (w, h) == (width, height) {
            flat.clone()
        } else {
            flat.resize_exact(w, h, FilterType::Triangle)
        };
        let mut out = Vec::new();
        scaled
            .write_with_encoder(JpegEncoder::new_with_quality(&mut out, QUALITY))
            .map_err(|e| format!("the scaled picture cannot be saved: {e}"))?;
        if out.len() <= max_bytes {
            return Ok(Fitted {
                bytes: out,
                mime: "image/jpeg".into(),
            });
        }
        scale *= (max_bytes as f64 / out.len() as f64).sqrt().min(0.9);
    }
}

/// The picture's colours over white.
fn flatten(image: &DynamicImage) -> DynamicImage {
    if !image.color().has_alpha() {
        return DynamicImage::ImageRgb8(image.to_rgb8());
    }
    let rgba = image.to_rgba8();
    let rgb = image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: u8| {
            let (c, a) = (u16::from(c), u16::from(a));
            ((c * a + 255 * (255 - a)) / 255) as u8
        };
        image::Rgb([over(r), over(g), over(b)])
    });
    DynamicImage::ImageRgb8(rgb)
}

#[cfg(test)]
mod tests {
    use super::{fit, sniff_image_type};

    #[test]
    fn image_types_come_from_the_bytes() {
        assert_eq!(
            sniff_image_type(b"\x89PNG\r\n\x1a\n...."),
            Some("image/png")
        );
        assert_eq!(
            sniff_image_type(&[0xff, 0xd8, 0xff, 0xe0, 0]),
            Some("image/jpeg")
        );
        assert_eq!(sniff_image_type(b"GIF89a...."), Some("image/gif"));
        assert_eq!(
            sniff_image_type(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some("image/webp")
        );
        assert_eq!(sniff_image_type(b"%PDF-1.7"), None);
        assert_eq!(sniff_image_type(b""), None);
    }

    /// A PNG of noise, which compresses badly: large for its size.
    fn noisy_png(width: u32, height: u32) -> Vec<u8> {
        let mut seed = 0x2545_f491_u32;
        let picture = image::RgbaImage::from_fn(width, height, |_, _| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let [r, g, b, _] = seed.to_le_bytes();
            image::Rgba([r, g, b, 200])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        picture
            .write_to(&mut out, image::ImageFormat::Png)
            .expect("png");
        out.into_inner()
    }

    #[test]
    fn a_picture_that_fits_is_kept_as_it_is_and_a_larger_one_is_scaled_down_to_fit() {
        let png = noisy_png(900, 600);
        assert!(png.len() > 1_500_000, "{}", png.len());
        let kept = fit(png.clone(), "image/png", png.len()).expect("fits");
        assert_eq!((kept.bytes, kept.mime.as_str()), (png.clone(), "image/png"));

        let fitted = fit(png, "image/png", 300_000).expect("scaled");
        assert!(fitted.bytes.len() <= 300_000, "{}", fitted.bytes.len());
        assert_eq!(fitted.mime, "image/jpeg");
        let read = image::load_from_memory(&fitted.bytes).expect("a picture");
        let (w, h) = image::GenericImageView::dimensions(&read);
        assert!(w < 900 && w > 100, "{w}×{h}");
        assert_eq!(
            (f64::from(w) / f64::from(h) * 10.0).round(),
            15.0,
            "keeps its shape"
        );
    }

    #[test]
    fn bytes_that_are_no_picture_cannot_be_scaled() {
        let err = fit(vec![0; 2000], "image/png", 1000).unwrap_err();
        assert!(err.contains("cannot be read"), "{err}");
    }
}
