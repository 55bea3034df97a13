//! The OpenRPC document returned by `rpc.discover`.

use serde_json::{Value, json};

use crate::describe::MethodKind;
use crate::service::Service;

/// An OpenRPC 1.3 document of what `service` serves.
pub fn openrpc(service: &Service) -> Value {
    let mut methods = Vec::new();
    let mut described = std::collections::HashSet::new();
    for desc in service.descriptions() {
        for m in desc.methods {
            described.insert(m.name);
            let params: Vec<Value> = m
                .params
                .iter()
                .map(|p| {
                    let mut v = json!({ "name": p.name, "schema": {} });
                    if !p.docs.is_empty() {
                        v["description"] = p.docs.into();
                    }
                    v
                })
                .collect();
            let mut method = json!({
                "name": m.name,
                "params": params,
                "paramStructure": "either",
            });
            if !m.docs.is_empty() {
                method["description"] = m.docs.into();
            }
            if m.kind == MethodKind::Request {
                method["result"] = json!({ "name": "result", "schema": {} });
            }
            methods.push(method);
        }
    }
    for name in service.method_names() {
        if !described.contains(name) {
            methods.push(json!({ "name": name, "params": [] }));
        }
    }
    json!({
        "openrpc": "1.3.2",
        "info": { "title": "volley service", "version": "0.0.0" },
        "methods": methods,
    })
}
