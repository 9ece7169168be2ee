//! The crash test: a flash sale under concurrent buyers, the server process killed with SIGKILL
//! mid-sale and started again on the same data. Every acknowledged order is there, stock plus
//! sold equals the initial stock, and no buyer holds more than the per-buyer limit.

use crate::common;

use common::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const BUYERS: usize = 200;
const STOCK: i64 = 250;
const LIMIT: i64 = 2;

fn serve(data: &std::path::Path, port: u16) -> ServerProcess {
    // This test is about durability; the per-address API budget would only slow it.
    spawn_server(
        data,
        port,
        &[("HAWKER_SERVER__API_REQUESTS_PER_MINUTE", "0")],
    )
}

fn client_for(token: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::COOKIE,
        format!("hawker_session={token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(h)
        .pool_max_idle_per_host(4)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_flash_sale_loses_no_acknowledged_order() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hawker"))
        .args(["seed", "buyers", "--count", &BUYERS.to_string(), "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let tokens: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(tokens.len(), BUYERS);

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(data.path(), port);
    wait_ready(&base).await;

    // The host's shop and a sale that opens in 10 s.
    let (host, _) = streamer_channel(&base, "crash-host").await;
    let org = json_ok(
        host.post(format!("{base}/api/v1/orgs"))
            .json(&json!({"name": "Crash Test Shop"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let p = json_ok(
        host.post(format!("{base}/api/v1/orgs/{}/products", org["id"]))
            .json(&json!({"title": "Silk scarf", "category": "fashion", "return_class": "normal",
                "currency": "CNY", "skus": [{"label": "one size", "price_minor": 29900, "stock": STOCK}]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let sale = json_ok(
        host.post(format!("{base}/api/v1/flash-sales"))
            .json(
                &json!({"channel": "crash-host", "sku": p["skus"][0]["id"], "price_minor": 9900,
                "stock": STOCK, "per_buyer_limit": LIMIT, "duration_s": 1200, "countdown_s": 10}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    let sale_id = sale["id"].as_i64().unwrap();
    let starts = sale["starts_at"].as_i64().unwrap();
    while now_ms() < starts {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Every buyer taps up to three times; each 201 is an acknowledgement we hold the server to.
    let acked: Arc<std::sync::Mutex<Vec<(usize, i64)>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let (c, acked, count, base) = (client_for(t), acked.clone(), count.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            for k in 0..3 {
                let r = c
                    .post(format!("{base}/api/v1/flash-sales/{sale_id}/orders"))
                    .header("idempotency-key", format!("b{i}-{k}"))
                    .json(&json!({"address": {"name": "B", "line1": "1 Road", "city": "Ningbo"}}))
                    .send()
                    .await;
                let Ok(r) = r else { return };
                if r.status().as_u16() == 201 {
                    let v: Value = match r.json().await {
                        Ok(v) => v,
                        Err(_) => return,
                    };
                    acked
                        .lock()
                        .unwrap()
                        .push((i, v["order"].as_i64().unwrap()));
                    count.fetch_add(1, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    // Kill the server without warning once part of the stock is sold.
    let killer = {
        let count = count.clone();
        async move {
            while count.load(Ordering::SeqCst) < 60 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), killer)
        .await
        .expect("buyers got orders");
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 60);

    // Start again on the same data.
    let _server = serve(data.path(), port);
    wait_ready(&base).await;

    // Every acknowledged order is there, belongs to its buyer and to the sale.
    for (i, order) in &acked {
        let o = json_ok(
            client_for(&tokens[*i])
                .get(format!("{base}/api/v1/orders/{order}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(o["flash_sale"], sale_id, "{o}");
        assert_eq!(o["state"], "created");
    }
    // Stock + sold = initial; no buyer above the limit.
    let csv = host
        .get(format!(
            "{base}/api/v1/orgs/{}/orders?format=csv",
            org["id"]
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut per_buyer: HashMap<String, i64> = HashMap::new();
    let mut sold = 0;
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (state, buyer, flash) = (f[2], f[3], f[10]);
        if flash == sale_id.to_string() && state != "cancelled" && state != "expired" {
            sold += 1;
            *per_buyer.entry(buyer.to_string()).or_default() += 1;
        }
    }
    assert!(sold >= acked.len() as i64);
    let after = json_ok(
        reqwest::get(format!("{base}/api/v1/flash-sales/{sale_id}"))
            .await
            .unwrap(),
    )
    .await;
    eprintln!(
        "acknowledged before the kill: {}; orders after restart: {sold}; remaining: {}",
        acked.len(),
        after["remaining"]
    );
    assert_eq!(
        after["remaining"].as_i64().unwrap() + sold,
        STOCK,
        "{after}"
    );
    assert!(per_buyer.values().all(|n| *n <= LIMIT), "{per_buyer:?}");

    // The limit still holds after the restart: an acknowledged buyer may buy up to the limit
    // and no further.
    let buyer_of: HashMap<String, String> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[3].to_string())
        })
        .collect();
    let (i, order) = acked[0];
    let had = per_buyer[&buyer_of[&order.to_string()]];
    let buyer = client_for(&tokens[i]);
    let address = json!({"address": {"name": "B", "line1": "1 Road", "city": "Ningbo"}});
    let buy = format!("{base}/api/v1/flash-sales/{sale_id}/orders");
    for _ in had..LIMIT {
        json_ok(post(&buyer, buy.clone(), address.clone()).await).await;
    }
    let r = post(&buyer, buy, address).await;
    assert_eq!(r.status().as_u16(), 409);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "over_buyer_limit");
}
