//! A tiny file server on 127.0.0.1 holding deterministic asset files (`/<n>.bin`, or
//! `/<n>-v<k>.bin` for a changed file), for seeding projects with assets that have real bytes.

use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// Serves files until dropped.
pub struct FileServer {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

/// The bytes of file `name` (a small PNG-like header, then seeded content).
pub fn file_bytes(name: &str) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut hasher = blake3::Hasher::new();
    hasher.update(name.as_bytes());
    let mut reader = hasher.finalize_xof();
    let mut body = vec![0u8; 2048];
    reader.fill(&mut body);
    out.extend(body);
    out
}

async fn serve(Path(name): Path<String>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/png")], file_bytes(&name))
}

impl FileServer {
    pub async fn start() -> std::io::Result<FileServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = axum::Router::new().route("/{name}", get(serve));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FileServer { url, task })
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
