//! The admin CLI's side: talks to a running server over its HTTP API with the admin token.

use std::path::Path;

pub struct AdminClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl AdminClient {
    /// Server: `--server`, else what the server wrote into the data dir, else the default.
    /// Token: `HAWKER_ADMIN_TOKEN`, else `{data}/admin-token`.
    pub fn locate(data: &Path, server: Option<&str>) -> anyhow::Result<Self> {
        let base = match server {
            Some(s) => s.trim_end_matches('/').to_string(),
            None => std::fs::read_to_string(data.join(crate::app::SERVER_FILE))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v["http_url"].as_str().map(str::to_string))
                .unwrap_or_else(|| "http://127.0.0.1:8080".to_string()),
        };
        let token = match std::env::var("HAWKER_ADMIN_TOKEN") {
            Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
            _ => {
                let path = data.join(crate::admin::TOKEN_FILE);
                std::fs::read_to_string(&path)
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "no admin token: {} ({e}); start the server once with --data {} or set HAWKER_ADMIN_TOKEN",
                            path.display(),
                            data.display()
                        )
                    })?
                    .trim()
                    .to_string()
            }
        };
        Ok(AdminClient {
            base,
            token,
            http: reqwest::Client::new(),
        })
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach the server at {}: {e}", self.base))?;
        let status = resp.status();
        let value: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
        if !status.is_success() {
            let code = value["code"].as_str().unwrap_or("error");
            let detail = value["detail"]
                .as_str()
                .or(value["title"].as_str())
                .unwrap_or("");
            anyhow::bail!("{status}: {code}: {detail}");
        }
        Ok(value)
    }
}
