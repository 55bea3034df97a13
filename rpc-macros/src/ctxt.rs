//! The error collector: every independent mistake in the input is recorded, and all of them
//! are reported together, so the user sees them in one build rather than one per build.

use std::fmt::Display;

use proc_macro2::Span;
use quote::ToTokens;
use syn::Error;

/// Errors collected while checking independent parts of the input, in the order found.
#[derive(Default)]
pub(crate) struct Errors(Option<Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// An error spanning `tokens`.
    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(Error::new_spanned(tokens, message));
    }

    /// An error at `span`.
    pub(crate) fn at(&mut self, span: Span, message: impl Display) {
        self.push(Error::new(span, message));
    }

    /// All the errors as one, or `Ok` when there were none.
    pub(crate) fn finish(self) -> syn::Result<()> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// The messages, in order.
    #[cfg(test)]
    pub(crate) fn messages(self) -> Vec<String> {
        match self.finish() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_combine_in_order() {
        assert!(Errors::default().messages().is_empty());

        let mut errors = Errors::default();
        errors.at(Span::call_site(), "first");
        errors.spanned(quote::quote!(a b), "second");
        errors.push(Error::new(Span::call_site(), "third"));
        assert_eq!(errors.messages(), ["first", "second", "third"]);
    }
}
