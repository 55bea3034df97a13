//! Respanning: gives generated tokens the span of one of the user's tokens, so that an error
//! rustc finds in them points at what the user wrote rather than at the attribute.

use proc_macro2::{Group, Span, TokenStream, TokenTree};

/// `tokens` with every token, inside groups too, at `span`.
pub(crate) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn respan_keeps_the_tokens() {
        let tokens = quote!(::volley::__private::call(a, [b], { c }));
        let respanned = respan(tokens.clone(), Span::call_site());
        assert_eq!(respanned.to_string(), tokens.to_string());
    }
}
