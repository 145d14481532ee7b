//! What an upload really is, read from its first bytes (its "magic number"), never from the
//! file name or the client's `Content-Type`, both of which the client chooses.

use crate::problems::StorageProblem;

use mercato_kernel::Problem;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The media types the platform accepts as uploads and recognises by their signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    /// `FF D8 FF`
    Jpeg,
    /// `89 50 4E 47 0D 0A 1A 0A`
    Png,
    /// `GIF87a` or `GIF89a`
    Gif,
    /// `RIFF <size> WEBP`
    Webp,
    /// `%PDF-`
    Pdf,
}

impl MediaType {
    pub const ALL: [MediaType; 5] = [
        MediaType::Jpeg,
        MediaType::Png,
        MediaType::Gif,
        MediaType::Webp,
        MediaType::Pdf,
    ];
    /// The images a storefront shows.
    pub const IMAGES: [MediaType; 4] = [
        MediaType::Jpeg,
        MediaType::Png,
        MediaType::Gif,
        MediaType::Webp,
    ];

    /// The `Content-Type` to store and serve it with.
    pub const fn mime(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Gif => "image/gif",
            MediaType::Webp => "image/webp",
            MediaType::Pdf => "application/pdf",
        }
    }

    /// The usual file extension, for [`crate::ObjectKey::unique`].
    pub const fn extension(self) -> &'static str {
        match self {
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
            MediaType::Gif => "gif",
            MediaType::Webp => "webp",
            MediaType::Pdf => "pdf",
        }
    }

    /// The media type whose MIME type is `mime` (parameters such as `; charset` ignored).
    pub fn from_mime(mime: &str) -> Option<MediaType> {
        let essence = mime.split(';').next().unwrap_or_default().trim();
        MediaType::ALL
            .into_iter()
            .find(|media| media.mime().eq_ignore_ascii_case(essence))
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mime())
    }
}

/// The media type `bytes` start like, if it is one of [`MediaType::ALL`]: JPEG, PNG, GIF,
/// WebP or PDF. Only the signature is read; a truncated or corrupt body past it still
/// sniffs as its type (decoding is the consumer's job).
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(b"\xFF\xD8\xFF") {
        Some(MediaType::Jpeg)
    } else if bytes.starts_with(PNG) {
        Some(MediaType::Png)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(MediaType::Gif)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(MediaType::Webp)
    } else if bytes.starts_with(b"%PDF-") {
        Some(MediaType::Pdf)
    } else {
        None
    }
}

/// Why an upload is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    #[error("the upload is empty")]
    Empty,
    #[error("the upload is {size} bytes; at most {max} bytes are allowed")]
    TooLarge { size: usize, max: usize },
    #[error("the upload is not one of the allowed types ({})", list(allowed))]
    Unsupported {
        /// What it sniffed as, if anything (e.g. a PDF where only images are allowed).
        detected: Option<MediaType>,
        allowed: Vec<MediaType>,
    },
}

fn list(types: &[MediaType]) -> String {
    types
        .iter()
        .map(|media| media.mime())
        .collect::<Vec<_>>()
        .join(", ")
}

impl UploadError {
    /// `422 empty`, `413 too_large` or `415 unsupported_media_type`, with the reason as
    /// the detail.
    pub fn to_problem(&self) -> Problem {
        let problem = match self {
            UploadError::Empty => Problem::from(StorageProblem::Empty),
            UploadError::TooLarge { .. } => Problem::from(StorageProblem::TooLarge),
            UploadError::Unsupported { .. } => {
                Problem::from(mercato_kernel::Common::UnsupportedMediaType)
            }
        };
        problem.with_detail(self.to_string())
    }
}

/// Checks an upload before it is stored: not empty, at most `max_bytes`, and by its content
/// one of `allowed`. Returns the sniffed type, which is what to store it with.
pub fn validate_upload(
    bytes: &[u8],
    allowed: &[MediaType],
    max_bytes: usize,
) -> Result<MediaType, UploadError> {
    if bytes.is_empty() {
        return Err(UploadError::Empty);
    }
    if bytes.len() > max_bytes {
        return Err(UploadError::TooLarge {
            size: bytes.len(),
            max: max_bytes,
        });
    }
    match sniff(bytes) {
        Some(media) if allowed.contains(&media) => Ok(media),
        detected => Err(UploadError::Unsupported {
            detected,
            allowed: allowed.to_vec(),
        }),
    }
}

/// Smallest real files of each type.
#[cfg(test)]
pub(crate) mod samples {
    /// A 1×1 PNG.
    pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82";
    /// A 1×1 GIF.
    pub const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
    /// The start of a JPEG (SOI, APP0/JFIF).
    pub const JPEG: &[u8] =
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9";
    /// A lossless 1×1 WebP.
    pub const WEBP: &[u8] = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00";
    /// A minimal PDF.
    pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_is_recognised_by_its_signature() {
        assert_eq!(sniff(samples::JPEG), Some(MediaType::Jpeg));
        assert_eq!(sniff(samples::PNG), Some(MediaType::Png));
        assert_eq!(sniff(samples::GIF), Some(MediaType::Gif));
        assert_eq!(sniff(b"GIF87a..."), Some(MediaType::Gif));
        assert_eq!(sniff(samples::WEBP), Some(MediaType::Webp));
        assert_eq!(sniff(samples::PDF), Some(MediaType::Pdf));
    }

    #[test]
    fn other_content_is_not_recognised() {
        let unknown: [&[u8]; 9] = [
            b"",
            b"\xff\xd8",
            b"\x89PNG",
            b"GIF88a",
            b"RIFF\x1a\x00\x00\x00WAVEfmt ",
            b"RIFF\x00\x00WEBP",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            b"<html><script>alert(1)</script>",
            b"PK\x03\x04",
        ];
        for bytes in unknown {
            assert_eq!(sniff(bytes), None, "{bytes:?}");
        }
    }

    #[test]
    fn the_name_does_not_matter_only_the_content() {
        // An HTML page called "cover.jpg" with an image content type is still refused.
        let html = b"<!doctype html><title>x</title>";
        let error = validate_upload(html, &MediaType::IMAGES, 1024).unwrap_err();
        assert_eq!(
            error,
            UploadError::Unsupported {
                detected: None,
                allowed: MediaType::IMAGES.to_vec()
            }
        );
    }

    #[test]
    fn uploads_are_checked_for_size_emptiness_and_type() {
        assert_eq!(
            validate_upload(samples::PNG, &MediaType::IMAGES, 1024),
            Ok(MediaType::Png)
        );
        assert_eq!(
            validate_upload(samples::PNG, &MediaType::IMAGES, samples::PNG.len()),
            Ok(MediaType::Png),
            "exactly the limit is allowed"
        );
        assert_eq!(
            validate_upload(b"", &MediaType::ALL, 1024),
            Err(UploadError::Empty)
        );
        assert_eq!(
            validate_upload(samples::PNG, &MediaType::IMAGES, 10),
            Err(UploadError::TooLarge {
                size: samples::PNG.len(),
                max: 10
            })
        );
        assert_eq!(
            validate_upload(samples::PDF, &MediaType::IMAGES, 1024),
            Err(UploadError::Unsupported {
                detected: Some(MediaType::Pdf),
                allowed: MediaType::IMAGES.to_vec()
            })
        );
    }

    #[test]
    fn errors_map_to_clear_problems() {
        let cases = [
            (UploadError::Empty, 422, "empty"),
            (
                UploadError::TooLarge { size: 11, max: 10 },
                413,
                "too_large",
            ),
            (
                UploadError::Unsupported {
                    detected: None,
                    allowed: vec![MediaType::Png, MediaType::Jpeg],
                },
                415,
                "unsupported_media_type",
            ),
        ];
        for (error, status, code) in cases {
            let problem = error.to_problem();
            assert_eq!(problem.status.as_u16(), status);
            assert_eq!(problem.code, code);
            assert!(
                problem.source.is_none(),
                "a client error, not an internal one"
            );
        }
        let detail = UploadError::Unsupported {
            detected: None,
            allowed: vec![MediaType::Png, MediaType::Jpeg],
        }
        .to_problem()
        .detail
        .unwrap();
        assert!(detail.contains("image/png, image/jpeg"), "{detail}");
    }

    #[test]
    fn mime_types_round_trip() {
        for media in MediaType::ALL {
            assert_eq!(MediaType::from_mime(media.mime()), Some(media));
        }
        assert_eq!(
            MediaType::from_mime("IMAGE/PNG; charset=binary"),
            Some(MediaType::Png)
        );
        assert_eq!(MediaType::from_mime("text/html"), None);
    }
}
