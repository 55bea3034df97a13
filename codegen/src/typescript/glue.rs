//! The typed API of the module: `ServerApi` (calls to the server, nested by dotted name),
//! `ClientHandlers` (what the client serves), and the functions that connect them to a
//! volley.js peer, written into the fixed text of `runtime.ts`.

use std::collections::HashSet;
use std::fmt::Write as _;

use volley_core::describe::{MethodKind, ParamStructure};

use super::{Method, pad};
use crate::typescript::docs::{method_docs, write_docs};
use crate::typescript::names::{key, literal_key, string_literal};
use crate::typescript::runtime::{Section, fill};

/// Everything after the method maps: the helper types, `ServerApi`, `ClientHandlers` and the
/// runtime functions, for `server` (the methods the server serves) and `client` (those the
/// client serves).
pub(super) fn api(out: &mut String, server: &[Method], client: &[Method]) {
    let (server_api, server_object) = if server.is_empty() {
        ("{}".to_owned(), "{}".to_owned())
    } else {
        let tree = tree(server);
        let mut api = String::from("{\n");
        members(&mut api, &tree, 1, "");
        api.push('}');
        let mut properties = String::from("{\n");
        object(&mut properties, &tree, 2);
        properties.push_str("  }");
        (api, properties)
    };
    let (handler_types, handlers_default, handlers) = if client.is_empty() {
        (
            "{}".to_owned(),
            " = {}",
            "  void handlers;\n  return {};".to_owned(),
        )
    } else {
        (handler_types(client), "", handlers(client))
    };
    fill(
        out,
        Section::Api.text(),
        &[
            ("ServerApi", &server_api),
            ("ClientHandlers", &handler_types),
            ("handlersDefault", handlers_default),
            ("server", &server_object),
            ("streams", &streams(server)),
            ("clientHandlers", &handlers),
        ],
    );
    // Only client handlers call it.
    if !client.is_empty() {
        out.push_str(Section::NamedParams.text());
    }
}

/// Methods of one direction arranged for access by dotted path (see the module docs).
enum Node<'m> {
    Leaf(&'m Method),
    Group(Vec<(String, Node<'m>)>),
}

fn tree(methods: &[Method]) -> Vec<(String, Node<'_>)> {
    let names: HashSet<&str> = methods.iter().map(|m| m.desc.name).collect();
    let mut root: Vec<(String, Node<'_>)> = Vec::new();
    for m in methods {
        let segments: Vec<&str> = m.desc.name.split('.').collect();
        let nests = segments.len() > 1
            && segments.iter().all(|s| !s.is_empty())
            && (1..segments.len()).all(|n| !names.contains(segments[..n].join(".").as_str()));
        if !nests {
            root.push((m.desc.name.to_owned(), Node::Leaf(m)));
            continue;
        }
        let (last, path) = segments.split_last().unwrap_or((&"", &[]));
        let mut level = &mut root;
        for segment in path {
            let at = match level.iter().position(|(k, _)| k == segment) {
                Some(at) => at,
                None => {
                    level.push(((*segment).to_owned(), Node::Group(Vec::new())));
                    level.len() - 1
                }
            };
            level = match &mut level[at].1 {
                Node::Group(children) => children,
                // A method named like this group would have stopped the nesting.
                Node::Leaf(_) => unreachable!("a group and a method share a name"),
            };
        }
        level.push(((*last).to_owned(), Node::Leaf(m)));
    }
    root
}

/// The members of `ServerApi` (or of a group in it) at `level`; `prefix` is the group's path.
fn members(out: &mut String, nodes: &[(String, Node<'_>)], level: usize, prefix: &str) {
    for (name, node) in nodes {
        match node {
            Node::Leaf(m) => {
                write_docs(out, level, &method_docs(m));
                let wire = string_literal(m.desc.name);
                let opt = if m.all_optional() { "?" } else { "" };
                let params = format!("params{opt}: ServerMethods[{wire}][\"params\"]");
                match m.desc.kind {
                    MethodKind::Request => {
                        let _ = writeln!(
                            out,
                            "{}{}({params}, options?: volley.CallOptions): \
                             Promise<ServerMethods[{wire}][\"result\"]>;",
                            pad(level),
                            key(name)
                        );
                    }
                    MethodKind::Notification => {
                        let _ = writeln!(out, "{}{}({params}): void;", pad(level), key(name));
                    }
                    MethodKind::Stream { .. } => {
                        let _ = writeln!(
                            out,
                            "{}{}({params}, options?: SubscribeOptions): \
                             Promise<volley.Subscription<ServerMethods[{wire}][\"result\"]>>;",
                            pad(level),
                            key(name)
                        );
                    }
                }
            }
            Node::Group(children) => {
                let path = format!("{prefix}{name}.");
                write_docs(out, level, &[format!("Methods under `{path}`.")]);
                let _ = writeln!(out, "{}readonly {}: {{", pad(level), key(name));
                members(out, children, level + 1, &path);
                let _ = writeln!(out, "{}}};", pad(level));
            }
        }
    }
}

/// What a call sends of the `params` object: the object itself, or for a method declared
/// `params = "positional"` an array of its values in declaration order (none when the
/// object is left out).
fn sent(m: &Method) -> String {
    if m.desc.param_structure != ParamStructure::ByPosition || m.params.is_empty() {
        return "params".to_owned();
    }
    let values: Vec<String> = m
        .params
        .iter()
        .map(|p| format!("params[{}]", string_literal(p.name)))
        .collect();
    format!("params && [{}]", values.join(", "))
}

/// The properties of the `server` object (or of a group in it) at `level`.
fn object(out: &mut String, nodes: &[(String, Node<'_>)], level: usize) {
    for (name, node) in nodes {
        match node {
            Node::Leaf(m) => {
                let wire = string_literal(m.desc.name);
                match m.desc.kind {
                    MethodKind::Request => {
                        // The method's own deadline is the default; the caller's options win.
                        let options = match m.desc.timeout_ms {
                            Some(ms) => format!("{{ timeoutMs: {ms}, ...options }}"),
                            None => "options".to_owned(),
                        };
                        let _ = writeln!(
                            out,
                            "{}{}: (params, options) => peer.call({wire}, {}, {options}),",
                            pad(level),
                            literal_key(name),
                            sent(m)
                        );
                    }
                    MethodKind::Notification => {
                        let _ = writeln!(
                            out,
                            "{}{}: (params) => peer.notify({wire}, {}),",
                            pad(level),
                            literal_key(name),
                            sent(m)
                        );
                    }
                    MethodKind::Stream { item, unsubscribe } => {
                        // The method's own deadline is the default; the stream's names are
                        // not the caller's to change.
                        let names = format!(
                            "item: {}, unsubscribe: {}",
                            string_literal(item),
                            string_literal(unsubscribe)
                        );
                        let options = match m.desc.timeout_ms {
                            Some(ms) => format!("{{ timeoutMs: {ms}, ...options, {names} }}"),
                            None => format!("{{ ...options, {names} }}"),
                        };
                        let _ = writeln!(
                            out,
                            "{}{}: (params, options) => peer.subscribe({wire}, {}, {options}),",
                            pad(level),
                            literal_key(name),
                            sent(m)
                        );
                    }
                }
            }
            Node::Group(children) => {
                let _ = writeln!(out, "{}{}: {{", pad(level), literal_key(name));
                object(out, children, level + 1);
                let _ = writeln!(out, "{}}},", pad(level));
            }
        }
    }
}

/// The body of `ClientHandlers`: one member per client method, keyed by wire name.
fn handler_types(client: &[Method]) -> String {
    let mut out = String::from("{\n");
    for m in client {
        write_docs(&mut out, 1, &method_docs(m));
        let wire = string_literal(m.desc.name);
        let returns = match m.desc.kind {
            MethodKind::Request => {
                format!(
                    "ClientMethods[{wire}][\"result\"] | Promise<ClientMethods[{wire}][\"result\"]>"
                )
            }
            MethodKind::Notification => "void | Promise<void>".to_owned(),
            MethodKind::Stream { .. } => format!("StreamItems<ClientMethods[{wire}][\"result\"]>"),
        };
        let _ = writeln!(
            out,
            "{}{}: (params: ClientMethods[{wire}][\"params\"], context: volley.HandlerContext) => {returns};",
            pad(1),
            key(m.desc.name)
        );
    }
    out.push('}');
    out
}

/// The body of `clientHandlers`: volley.js handlers that name positional params and call
/// the client's handlers; a stream's is made with volley.js's `stream`, which serves its
/// unsubscribe method too.
fn handlers(client: &[Method]) -> String {
    let mut out = String::from("  return {\n");
    for m in client {
        let wire = string_literal(m.desc.name);
        let names: Vec<String> = m.params.iter().map(|p| string_literal(p.name)).collect();
        // The handler, its body at `level`.
        let call = |level: usize| {
            format!(
                "(params, context) =>\n{}handlers[{wire}](namedParams({wire}, params, [{}]) as ClientMethods[{wire}][\"params\"], context)",
                pad(level),
                names.join(", ")
            )
        };
        let key = literal_key(m.desc.name);
        match m.desc.kind {
            MethodKind::Stream { item, unsubscribe } => {
                let _ = writeln!(
                    out,
                    "{}{key}: volley.stream(\n{}{},\n{}{{ item: {}, unsubscribe: {} }},\n{}),",
                    pad(2),
                    pad(3),
                    call(4),
                    pad(3),
                    string_literal(item),
                    string_literal(unsubscribe),
                    pad(2),
                );
            }
            _ => {
                let _ = writeln!(out, "{}{key}: {},", pad(2), call(3));
            }
        }
    }
    out.push_str("  };");
    out
}

/// The `streams` table of `createApi`: each server stream's names and deadline, by wire name.
fn streams(server: &[Method]) -> String {
    let mut out = String::new();
    for m in server {
        let MethodKind::Stream { item, unsubscribe } = m.desc.kind else {
            continue;
        };
        let timeout = match m.desc.timeout_ms {
            Some(ms) => format!(", timeoutMs: {ms}"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "{}{}: {{ item: {}, unsubscribe: {}{timeout} }},",
            pad(2),
            literal_key(m.desc.name),
            string_literal(item),
            string_literal(unsubscribe),
        );
    }
    if out.is_empty() {
        "{}".to_owned()
    } else {
        format!("{{\n{out}  }}")
    }
}
