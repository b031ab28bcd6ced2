//! Image upload, X API v2 (docs.x.com "Media upload", chunked quickstart, and xdevplatform's
//! `media_upload_v2.py` sample): `POST /2/media/upload/initialize` (JSON: type, size, category),
//! `POST /2/media/upload/:id/append` (multipart: `segment_index`, `media`) once per chunk,
//! `POST /2/media/upload/:id/finalize`, then `GET /2/media/upload?command=STATUS&media_id=…` while
//! `processing_info.state` is `pending` or `in_progress`, waiting `check_after_secs` each time. Alt text
//! goes on with `POST /2/media/metadata`. The media id is what `POST /2/tweets` takes in `media.media_ids`.
//!
//! Answers are read in both X's shapes: v2's `{"data": {"id", "processing_info"}}` and v1.1's
//! `{"media_id_string", "processing_info"}` (tweepy's recordings of real uploads are v1.1).

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Body, XClient, XError};

/// Images on one post (X "Create Post": `media.media_ids` takes 1 to 4).
pub const MAX_IMAGES: usize = 4;
/// The largest image X takes (X "Media best practices": 5 MB for images).
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// The longest alt text X keeps (X "Media metadata"); longer is cut.
pub const MAX_ALT_CHARS: usize = 1000;
/// Bytes per `append`. Images over this go up in several chunks.
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// The longest total wait for processing before giving up (transiently).
const MAX_PROCESSING_WAIT: Duration = Duration::from_secs(120);

/// An image to attach, with its alt text: the one image type of the drivers (`alt` is cut at
/// [`MAX_ALT_CHARS`] here).
pub use crate::bluesky::Image;

/// Where X's processing of an upload stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processing {
    /// No `processing_info`: ready to attach.
    Done,
    /// `pending` or `in_progress`: ask again after this long.
    Waiting(Duration),
    /// `succeeded`.
    Succeeded,
    /// `failed`, with X's message.
    Failed(String),
}

/// An answer of the upload endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaUpload {
    pub id: String,
    pub processing: Processing,
}

#[derive(Deserialize)]
struct ProcessingInfo {
    state: String,
    #[serde(default)]
    check_after_secs: Option<u64>,
    #[serde(default)]
    error: Option<Value>,
}

impl MediaUpload {
    /// Reads an upload answer in v2's or v1.1's shape.
    pub fn from_json(value: &Value) -> Result<Self, XError> {
        let inner = value.get("data").unwrap_or(value);
        let id = inner
            .get("id")
            .or_else(|| inner.get("media_id_string"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                inner
                    .get("media_id")
                    .and_then(Value::as_u64)
                    .map(|n| n.to_string())
            })
            .ok_or_else(|| {
                XError::InvalidResponse(format!(
                    "no media id in {}",
                    value.to_string().chars().take(200).collect::<String>()
                ))
            })?;
        let processing = match inner.get("processing_info") {
            None | Some(Value::Null) => Processing::Done,
            Some(info) => {
                let info: ProcessingInfo = serde_json::from_value(info.clone())
                    .map_err(|e| XError::InvalidResponse(format!("processing_info: {e}")))?;
                match info.state.as_str() {
                    "succeeded" => Processing::Succeeded,
                    "failed" => Processing::Failed(
                        info.error
                            .as_ref()
                            .and_then(|e| e.get("message").or_else(|| e.get("name")))
                            .and_then(Value::as_str)
                            .unwrap_or("processing failed")
                            .to_owned(),
                    ),
                    _ => Processing::Waiting(Duration::from_secs(
                        info.check_after_secs.unwrap_or(1).min(10),
                    )),
                }
            }
        };
        Ok(Self { id, processing })
    }
}

impl XClient {
    /// Uploads one image (chunked when over [`CHUNK_BYTES`]), waits for X to process it, sets its alt
    /// text, and returns its media id.
    #[tracing::instrument(skip_all, fields(bytes = image.bytes.len(), mime = %image.mime))]
    pub async fn upload_image(&self, image: &Image) -> Result<String, XError> {
        if image.bytes.len() > MAX_IMAGE_BYTES {
            return Err(XError::ImageTooLarge {
                bytes: image.bytes.len(),
            });
        }
        let category = if image.mime == "image/gif" {
            "tweet_gif"
        } else {
            "tweet_image"
        };
        let init = self
            .call(
                Method::POST,
                "2/media/upload/initialize",
                &[],
                Body::Json(json!({
                    "media_type": image.mime,
                    "total_bytes": image.bytes.len(),
                    "media_category": category,
                })),
            )
            .await?;
        let id = MediaUpload::from_json(&init)?.id;
        for (index, chunk) in image.bytes.chunks(CHUNK_BYTES).enumerate() {
            let part = reqwest::multipart::Part::bytes(chunk.to_vec())
                .file_name("media")
                .mime_str("application/octet-stream")
                .map_err(|e| XError::InvalidResponse(format!("multipart: {e}")))?;
            let form = reqwest::multipart::Form::new()
                .text("segment_index", index.to_string())
                .part("media", part);
            self.call(
                Method::POST,
                &format!("2/media/upload/{id}/append"),
                &[],
                Body::Multipart(form),
            )
            .await?;
        }
        let finalized = self
            .call(
                Method::POST,
                &format!("2/media/upload/{id}/finalize"),
                &[],
                Body::Empty,
            )
            .await?;
        self.wait_for_processing(&id, MediaUpload::from_json(&finalized)?.processing)
            .await?;
        let alt: String = image.alt.trim().chars().take(MAX_ALT_CHARS).collect();
        if !alt.is_empty() {
            self.call(
                Method::POST,
                "2/media/metadata",
                &[],
                Body::Json(json!({ "id": id, "metadata": { "alt_text": { "text": alt } } })),
            )
            .await?;
        }
        Ok(id)
    }

    async fn wait_for_processing(&self, id: &str, mut state: Processing) -> Result<(), XError> {
        let mut waited = Duration::ZERO;
        loop {
            match state {
                Processing::Done | Processing::Succeeded => return Ok(()),
                Processing::Failed(message) => return Err(XError::MediaFailed { message }),
                Processing::Waiting(after) => {
                    if waited + after > MAX_PROCESSING_WAIT {
                        return Err(XError::MediaStillProcessing { waited });
                    }
                    tokio::time::sleep(after).await;
                    waited += after;
                    let status = self
                        .call(
                            Method::GET,
                            "2/media/upload",
                            &[("command", "STATUS".into()), ("media_id", id.to_owned())],
                            Body::Empty,
                        )
                        .await?;
                    state = MediaUpload::from_json(&status)?.processing;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_answers_read_in_both_shapes() {
        let v2 = json!({"data": {"id": "1880028106020515840", "media_key": "3_1880028106020515840",
            "processing_info": {"state": "in_progress", "check_after_secs": 3}}});
        assert_eq!(
            MediaUpload::from_json(&v2).expect("v2"),
            MediaUpload {
                id: "1880028106020515840".into(),
                processing: Processing::Waiting(Duration::from_secs(3))
            }
        );
        let v11 = json!({"media_id": 710511363345354753_u64, "media_id_string": "710511363345354753",
            "processing_info": {"state": "failed", "error": {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"}}});
        assert_eq!(
            MediaUpload::from_json(&v11).expect("v1.1").processing,
            Processing::Failed("Unsupported video format".into())
        );
        assert!(MediaUpload::from_json(&json!({"data": {}})).is_err());
    }
}
